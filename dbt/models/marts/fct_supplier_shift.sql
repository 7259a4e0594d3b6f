-- Who replaced whom: per sector (headline 'full' basket) and supplier, the supplier's mean share of China's
-- imports over the baseline window and over the latest window (int_trend_windows; a year without imports
-- from the supplier counts as 0), the change in percentage points, and its rank in each window. One row per
-- supplier with imports in either window.
with shares as (
    select sector, supplier_code, year, imports_usd, import_share
    from {{ ref('fct_sector_suppliers') }}
),

windows as (
    select window_name, year from {{ ref('int_trend_windows') }}
),

window_sizes as (
    select 'baseline' as window_name, baseline_years_observed as year_count from {{ ref('int_trend_window_bounds') }}
    union all
    select 'latest' as window_name, latest_years_observed as year_count from {{ ref('int_trend_window_bounds') }}
),

window_means as (
    select
        shares.sector,
        shares.supplier_code,
        windows.window_name,
        sum(shares.import_share) / max(window_sizes.year_count) as import_share,
        sum(shares.imports_usd) / max(window_sizes.year_count) as imports_usd
    from shares
    inner join windows
        on windows.year = shares.year
    inner join window_sizes
        on window_sizes.window_name = windows.window_name
    group by shares.sector, shares.supplier_code, windows.window_name
),

suppliers as (
    select distinct sector, supplier_code from window_means
),

paired as (
    select
        suppliers.sector,
        suppliers.supplier_code,
        coalesce(baseline.import_share, 0) as baseline_import_share,
        coalesce(latest.import_share, 0) as latest_import_share,
        coalesce(baseline.imports_usd, 0) as baseline_imports_usd,
        coalesce(latest.imports_usd, 0) as latest_imports_usd
    from suppliers
    left join window_means as baseline
        on baseline.sector = suppliers.sector and baseline.supplier_code = suppliers.supplier_code
        and baseline.window_name = 'baseline'
    left join window_means as latest
        on latest.sector = suppliers.sector and latest.supplier_code = suppliers.supplier_code
        and latest.window_name = 'latest'
),

ranked as (
    select
        paired.*,
        row_number() over (partition by sector order by baseline_import_share desc, supplier_code) as baseline_rank,
        row_number() over (partition by sector order by latest_import_share desc, supplier_code) as latest_rank
    from paired
),

window_bounds as (
    select baseline_first_year, baseline_last_year, latest_first_year, latest_last_year
    from {{ ref('int_trend_window_bounds') }}
),

countries as (
    select country_code, country_name, partner_groups from {{ ref('dim_country') }}
),

build_source as (
    select is_synthetic, data_source from {{ ref('int_build_source') }}
)

select
    cast(ranked.sector as {{ dbt.type_string() }}) as sector,
    cast(ranked.supplier_code as integer) as supplier_code,
    cast(countries.country_name as {{ dbt.type_string() }}) as supplier_name,
    cast(countries.partner_groups as {{ dbt.type_string() }}) as supplier_partner_groups,
    cast(window_bounds.baseline_first_year as integer) as baseline_first_year,
    cast(window_bounds.baseline_last_year as integer) as baseline_last_year,
    cast(window_bounds.latest_first_year as integer) as latest_first_year,
    cast(window_bounds.latest_last_year as integer) as latest_last_year,
    cast(ranked.baseline_imports_usd as {{ type_double() }}) as baseline_imports_usd,
    cast(ranked.latest_imports_usd as {{ type_double() }}) as latest_imports_usd,
    cast(ranked.baseline_import_share as {{ type_double() }}) as baseline_import_share,
    cast(ranked.latest_import_share as {{ type_double() }}) as latest_import_share,
    cast((ranked.latest_import_share - ranked.baseline_import_share) * 100 as {{ type_double() }}) as share_change_pp,
    cast(ranked.baseline_rank as integer) as baseline_rank,
    cast(ranked.latest_rank as integer) as latest_rank,
    build_source.is_synthetic,
    cast(build_source.data_source as {{ dbt.type_string() }}) as data_source
from ranked
cross join window_bounds
cross join build_source
left join countries
    on countries.country_code = ranked.supplier_code
