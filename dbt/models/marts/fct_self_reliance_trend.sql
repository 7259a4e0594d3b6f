-- How China's self-reliance changed in each sector since the baseline, per basket and partner group. Each
-- measure is averaged over two windows of trend_window_years years, so that one stockpiling year does not
-- decide the class: the baseline window (vars baseline_first_year-baseline_last_year, Made in China 2025
-- being announced in 2015; the first years of the build when it holds none of them) and the latest window
-- (the build's last years). Self-reliance is not one number:
-- - the partner group's share of imports measures diversification away from that group (e.g. the West);
-- - the net-import ratio M/X and the normalised trade balance measure self-sufficiency in trade;
-- - the persistent-dependent share of imports measures exposure (GeoDep screen);
-- - TiVA's import penetration M/(Q+M-X) measures it in the domestic market (to TiVA's last year);
-- - import value, unit value and tonnes tell price from volume in a change of imports.
-- The class of the partner-share change uses +-trend_stable_pp percentage points. The full and broad
-- baskets say when their meaning changed inside the compared period (sector_basket_breaks, diffuse links
-- left out); the comparable basket cannot change.

with dependency as (
    select * from {{ ref('fct_sector_dependency') }}
),

window_years as (
    select window_name, year, basis from {{ ref('int_trend_windows') }}
),

windows as (
    select * from {{ ref('int_trend_window_bounds') }}
),

-- Each measure's mean over a window's years (nulls, e.g. TiVA after its last year, are left out of the mean).
window_means as (
    select
        dependency.sector,
        dependency.basket,
        dependency.partner_group,
        window_years.window_name,
        avg(dependency.imports_from_partner_usd) as imports_from_partner_usd,
        avg(dependency.imports_from_world_usd) as imports_from_world_usd,
        avg(dependency.partner_import_share) as partner_import_share,
        avg(dependency.net_import_ratio) as net_import_ratio,
        avg(dependency.normalised_trade_balance) as normalised_trade_balance,
        avg(dependency.supplier_hhi) as supplier_hhi,
        avg(dependency.dependent_import_share) as dependent_import_share,
        count(dependency.dependent_import_share) as dependent_import_share_years,
        avg(dependency.industry_import_penetration) as industry_import_penetration,
        count(dependency.industry_import_penetration) as industry_import_penetration_years,
        avg(dependency.imports_tonnes) as imports_tonnes,
        avg(dependency.import_unit_value_usd_per_tonne) as import_unit_value_usd_per_tonne,
        avg(dependency.export_unit_value_usd_per_tonne) as export_unit_value_usd_per_tonne,
        max(case when dependency.is_synthetic then 1 else 0 end) as synthetic_flag
    from dependency
    inner join window_years
        on window_years.year = dependency.year
    group by dependency.sector, dependency.basket, dependency.partner_group, window_years.window_name
),

-- The group(s) standing for every exporter (a seed row with an empty country_code): their share is 1 by
-- construction, so it says nothing about dependency on a partner.
all_partner_groups as (
    select distinct partner_group
    from {{ ref('partner_group') }}
    where country_code is null
),

-- Breaks of the basket's meaning (not diffuse) that fall inside the compared period: a break from year Y
-- separates the years before Y from Y onwards.
breaks_in_period as (
    select breaks.sector, breaks.from_year, count(*) as break_count
    from {{ ref('sector_basket_breaks') }} as breaks
    cross join windows
    where breaks.build_revision = '{{ var("hs_revision") }}'
      and not breaks.is_diffuse
      and breaks.from_year > windows.baseline_first_year
      and breaks.from_year <= windows.latest_last_year
    group by breaks.sector, breaks.from_year
),

sector_breaks as (
    select
        sector,
        {{ dbt.listagg('cast(from_year as ' ~ dbt.type_string() ~ ')', "'; '", 'order by from_year') }} as break_years,
        sum(break_count) as break_count
    from breaks_in_period
    group by sector
),

paired as (
    select
        baseline.sector,
        baseline.basket,
        baseline.partner_group,
        baseline.partner_import_share as partner_import_share_baseline,
        latest.partner_import_share as partner_import_share_latest,
        -- Rounded to 1e-9 pp so that floating-point noise cannot push a change of exactly the band into the next class.
        round(cast((latest.partner_import_share - baseline.partner_import_share) * 100 as {{ type_double() }}), 9)
            as partner_import_share_change_pp,
        baseline.imports_from_partner_usd as imports_from_partner_usd_baseline,
        latest.imports_from_partner_usd as imports_from_partner_usd_latest,
        baseline.imports_from_world_usd as imports_from_world_usd_baseline,
        latest.imports_from_world_usd as imports_from_world_usd_latest,
        baseline.net_import_ratio as net_import_ratio_baseline,
        latest.net_import_ratio as net_import_ratio_latest,
        baseline.normalised_trade_balance as normalised_trade_balance_baseline,
        latest.normalised_trade_balance as normalised_trade_balance_latest,
        baseline.supplier_hhi as supplier_hhi_baseline,
        latest.supplier_hhi as supplier_hhi_latest,
        baseline.dependent_import_share as dependent_import_share_baseline,
        latest.dependent_import_share as dependent_import_share_latest,
        baseline.dependent_import_share_years as dependent_import_share_years_baseline,
        latest.dependent_import_share_years as dependent_import_share_years_latest,
        baseline.industry_import_penetration as industry_import_penetration_baseline,
        latest.industry_import_penetration as industry_import_penetration_latest,
        baseline.industry_import_penetration_years as industry_import_penetration_years_baseline,
        latest.industry_import_penetration_years as industry_import_penetration_years_latest,
        baseline.imports_tonnes as imports_tonnes_baseline,
        latest.imports_tonnes as imports_tonnes_latest,
        baseline.import_unit_value_usd_per_tonne as import_unit_value_baseline,
        latest.import_unit_value_usd_per_tonne as import_unit_value_latest,
        baseline.export_unit_value_usd_per_tonne as export_unit_value_baseline,
        latest.export_unit_value_usd_per_tonne as export_unit_value_latest,
        case when baseline.synthetic_flag = 1 or latest.synthetic_flag = 1 then 1 else 0 end as synthetic_flag
    from window_means as baseline
    inner join window_means as latest
        on latest.sector = baseline.sector
        and latest.basket = baseline.basket
        and latest.partner_group = baseline.partner_group
        and latest.window_name = 'latest'
    where baseline.window_name = 'baseline'
),

build_source as (
    select data_source from {{ ref('int_build_source') }}
),

-- Which sources the windows' years come from: a latest window after BACI's last year reads China's reports (CIF).
window_sources as (
    select
        {{ dbt.listagg('source_name', "'; '", 'order by source_name') }} as latest_window_sources
    from (
        select distinct
            case year_source.source when 'baci' then 'BACI' else 'UN Comtrade (China-reported)' end as source_name
        from {{ ref('int_year_source') }} as year_source
        inner join window_years
            on window_years.year = year_source.year
        where window_years.window_name = 'latest'
    ) as distinct_sources
)

select
    cast(paired.sector as {{ dbt.type_string() }}) as sector,
    cast(paired.basket as {{ dbt.type_string() }}) as basket,
    cast(paired.partner_group as {{ dbt.type_string() }}) as partner_group,
    cast('{{ var("hs_revision") }}' as {{ dbt.type_string() }}) as hs_revision,
    cast(windows.baseline_first_year as integer) as baseline_first_year,
    cast(windows.baseline_last_year as integer) as baseline_last_year,
    cast(windows.baseline_years_observed as integer) as baseline_years_observed,
    cast(windows.baseline_basis as {{ dbt.type_string() }}) as baseline_basis,
    cast(windows.latest_first_year as integer) as latest_first_year,
    cast(windows.latest_last_year as integer) as latest_last_year,
    cast(windows.latest_years_observed as integer) as latest_years_observed,
    windows.baseline_last_year >= windows.latest_first_year as windows_overlap,
    cast(paired.imports_from_partner_usd_baseline as {{ type_double() }}) as imports_from_partner_usd_baseline,
    cast(paired.imports_from_partner_usd_latest as {{ type_double() }}) as imports_from_partner_usd_latest,
    cast(paired.partner_import_share_baseline as {{ type_double() }}) as partner_import_share_baseline,
    cast(paired.partner_import_share_latest as {{ type_double() }}) as partner_import_share_latest,
    cast(paired.partner_import_share_change_pp as {{ type_double() }}) as partner_import_share_change_pp,
    cast(
        case
            when all_partner_groups.partner_group is not null then null
            when paired.partner_import_share_change_pp is null then null
            when paired.partner_import_share_change_pp < -{{ var('trend_stable_pp') }} then 'falling dependency'
            when paired.partner_import_share_change_pp > {{ var('trend_stable_pp') }} then 'rising dependency'
            else 'stable'
        end as {{ dbt.type_string() }}
    ) as measured_direction,
    all_partner_groups.partner_group is not null as is_all_partners,
    {% for measure in ['net_import_ratio', 'normalised_trade_balance', 'supplier_hhi', 'dependent_import_share',
                       'industry_import_penetration'] %}
    cast(paired.{{ measure }}_baseline as {{ type_double() }}) as {{ measure }}_baseline,
    cast(paired.{{ measure }}_latest as {{ type_double() }}) as {{ measure }}_latest,
    cast(paired.{{ measure }}_latest - paired.{{ measure }}_baseline as {{ type_double() }}) as {{ measure }}_change,
    {% endfor %}
    cast(paired.dependent_import_share_years_baseline as integer) as dependent_import_share_years_baseline,
    cast(paired.dependent_import_share_years_latest as integer) as dependent_import_share_years_latest,
    cast(paired.industry_import_penetration_years_baseline as integer) as industry_import_penetration_years_baseline,
    cast(paired.industry_import_penetration_years_latest as integer) as industry_import_penetration_years_latest,
    {% for measure, column in [('imports_from_world_usd', 'imports_value'), ('import_unit_value', 'import_unit_value'),
                               ('imports_tonnes', 'imports_tonnes'), ('export_unit_value', 'export_unit_value')] %}
    cast(({{ ratio('paired.' ~ measure ~ '_latest', 'paired.' ~ measure ~ '_baseline') }} - 1) * 100 as {{ type_double() }})
        as {{ column }}_change_pct,
    {% endfor %}
    cast(paired.import_unit_value_latest as {{ type_double() }}) as import_unit_value_usd_per_tonne_latest,
    cast(paired.export_unit_value_latest as {{ type_double() }}) as export_unit_value_usd_per_tonne_latest,
    cast(case when paired.basket = 'comparable' then null else sector_breaks.break_years end as {{ dbt.type_string() }}) as basket_break_years,
    cast(case when paired.basket = 'comparable' then 0 else coalesce(sector_breaks.break_count, 0) end as integer)
        as basket_breaks_in_period,
    paired.basket <> 'comparable' and coalesce(sector_breaks.break_count, 0) > 0 as basket_meaning_changed,
    cast(window_sources.latest_window_sources as {{ dbt.type_string() }}) as latest_window_sources,
    paired.synthetic_flag = 1 as is_synthetic,
    cast(build_source.data_source as {{ dbt.type_string() }}) as data_source
from paired
cross join windows
cross join window_sources
cross join build_source
left join all_partner_groups
    on all_partner_groups.partner_group = paired.partner_group
left join sector_breaks
    on sector_breaks.sector = paired.sector
