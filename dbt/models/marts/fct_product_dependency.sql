-- China's import dependency per HS6 product and year (importer China = BACI code 156), with the dependency
-- screen of CEPII GeoDep / the European Commission. A product-year is dependent when the supplier HHI, the
-- world-export HHI and the import/export ratio all pass their thresholds (dbt vars). As in GeoDep, persistence
-- is what counts: persistent when dependent in at least persistent_min_years of the persistent_window_years
-- years ending with this one, and null while that window is not complete in the build (its first years). A
-- chokepoint is a persistent dependency where the chokepoint group (default US+EU) supplies more than
-- chokepoint_share of the imports. Unit values (USD per tonne) tell price from volume in a change of value.
-- Years after BACI's last come from China's reports to Comtrade (int_china_flows): the world-export HHI needs every
-- exporter, which China's reports do not give, so those years carry BACI's last year's (world_export_hhi_year says
-- which) and their screen uses it.
with totals as (
    select
        year, hs6, imports_world_usd, exports_world_usd, supplier_hhi, supplier_count,
        imports_tonnes, imports_with_quantity_usd, exports_tonnes, exports_with_quantity_usd, imports_via_split_usd,
        case when year > {{ var('last_year') }} then {{ var('last_year') }} else year end as world_export_hhi_year
    from {{ ref('int_china_product_totals') }}
),

by_group as (
    select year, hs6, partner_group, imports_usd
    from {{ ref('int_china_product_imports_by_partner') }}
),

build_years as (
    select distinct year from totals
),

screened as (
    select
        totals.*,
        world.world_export_hhi,
        coalesce(us.imports_usd, 0) as imports_us_usd,
        coalesce(eu.imports_usd, 0) as imports_eu27_usd,
        coalesce(choke.imports_usd, 0) as imports_chokepoint_group_usd,
        coalesce(
            totals.imports_world_usd > 0
            and totals.supplier_hhi > {{ var('dependency_hhi') }}
            and world.world_export_hhi > {{ var('dependency_world_hhi') }}
            -- M/X > threshold; with no exports (X = 0) any import passes, as in GeoDep
            and totals.imports_world_usd > {{ var('dependency_import_ratio') }} * totals.exports_world_usd,
            false
        ) as is_dependent
    from totals
    left join {{ ref('int_world_export_concentration') }} as world
        on world.year = totals.world_export_hhi_year and world.hs6 = totals.hs6
    left join by_group as us
        on us.year = totals.year and us.hs6 = totals.hs6 and us.partner_group = 'US'
    left join by_group as eu
        on eu.year = totals.year and eu.hs6 = totals.hs6 and eu.partner_group = 'EU27'
    left join by_group as choke
        on choke.year = totals.year and choke.hs6 = totals.hs6 and choke.partner_group = '{{ var("chokepoint_group") }}'
),

-- How many of the window's years (this one and the persistent_window_years - 1 before it) the build holds.
windows as (
    select current_year.year, count(*) as window_years_observed
    from build_years as current_year
    inner join build_years as window_year
        on window_year.year between current_year.year - {{ var('persistent_window_years') }} + 1 and current_year.year
    group by current_year.year
),

persistence as (
    select
        current_year.year,
        current_year.hs6,
        sum(case when window_year.is_dependent then 1 else 0 end) as dependent_years_in_window
    from screened as current_year
    inner join screened as window_year
        on window_year.hs6 = current_year.hs6
        and window_year.year between current_year.year - {{ var('persistent_window_years') }} + 1 and current_year.year
    group by current_year.year, current_year.hs6
),

flagged as (
    select
        screened.*,
        persistence.dependent_years_in_window,
        windows.window_years_observed,
        case
            when windows.window_years_observed < {{ var('persistent_window_years') }} then cast(null as boolean)
            else persistence.dependent_years_in_window >= {{ var('persistent_min_years') }}
        end as is_persistent_dependency
    from screened
    inner join persistence
        on persistence.year = screened.year and persistence.hs6 = screened.hs6
    inner join windows
        on windows.year = screened.year
),

product_sectors as (
    select hs6, {{ dbt.listagg('sector', "'; '", 'order by sector') }} as sectors
    from (select distinct sector, hs6 from {{ ref('int_sector_basket_products') }}) as distinct_sector_products
    group by hs6
),

products as (
    select hs6, description from {{ ref('stg_baci__products') }}
),

countries as (
    select country_code, country_name from {{ ref('stg_baci__countries') }}
),

year_source as (
    select year, is_synthetic, data_source, valuation from {{ ref('int_year_source') }}
)

select
    cast(flagged.hs6 as {{ dbt.type_string() }}) as hs6,
    cast(flagged.year as integer) as year,
    {{ year_start('flagged.year') }} as year_start,
    cast(products.description as {{ dbt.type_string() }}) as product_description,
    cast('{{ var("hs_revision") }}' as {{ dbt.type_string() }}) as hs_revision,
    cast(product_sectors.sectors as {{ dbt.type_string() }}) as sectors,
    cast(flagged.imports_world_usd as {{ type_double() }}) as imports_from_world_usd,
    cast(flagged.imports_us_usd as {{ type_double() }}) as imports_from_us_usd,
    cast(flagged.imports_eu27_usd as {{ type_double() }}) as imports_from_eu27_usd,
    cast(flagged.imports_chokepoint_group_usd as {{ type_double() }}) as imports_from_chokepoint_group_usd,
    {% for column, value in [('us_import_share', 'imports_us_usd'), ('eu27_import_share', 'imports_eu27_usd'),
                              ('chokepoint_group_import_share', 'imports_chokepoint_group_usd')] %}
    {{ ratio('flagged.' ~ value, 'flagged.imports_world_usd') }} as {{ column }},
    {% endfor %}
    cast(flagged.exports_world_usd as {{ type_double() }}) as exports_to_world_usd,
    {{ ratio('flagged.imports_world_usd', 'flagged.exports_world_usd') }} as net_import_ratio,
    flagged.exports_world_usd = 0 as has_no_exports,
    {{ ratio('flagged.exports_world_usd - flagged.imports_world_usd', 'flagged.exports_world_usd + flagged.imports_world_usd') }} as normalised_trade_balance,
    cast(flagged.imports_tonnes as {{ type_double() }}) as imports_tonnes,
    {{ ratio('flagged.imports_with_quantity_usd', 'flagged.imports_tonnes') }} as import_unit_value_usd_per_tonne,
    cast(flagged.exports_tonnes as {{ type_double() }}) as exports_tonnes,
    {{ ratio('flagged.exports_with_quantity_usd', 'flagged.exports_tonnes') }} as export_unit_value_usd_per_tonne,
    cast(flagged.supplier_hhi as {{ type_double() }}) as supplier_hhi,
    cast(flagged.world_export_hhi as {{ type_double() }}) as world_export_hhi,
    cast(flagged.world_export_hhi_year as integer) as world_export_hhi_year,
    cast(flagged.supplier_count as integer) as supplier_count,
    flagged.is_dependent,
    cast(flagged.dependent_years_in_window as integer) as dependent_years_in_window,
    cast(flagged.window_years_observed as integer) as window_years_observed,
    flagged.is_persistent_dependency,
    case
        when flagged.is_persistent_dependency is null then cast(null as boolean)
        else flagged.is_persistent_dependency and coalesce(
            flagged.imports_world_usd > 0
            and cast(flagged.imports_chokepoint_group_usd as {{ type_double() }})
                > {{ var('chokepoint_share') }} * cast(flagged.imports_world_usd as {{ type_double() }}),
            false
        )
    end as is_chokepoint,
    {% for rank in (1, 2, 3) %}
    cast(top.supplier_{{ rank }}_code as integer) as supplier_{{ rank }}_code,
    cast(supplier_{{ rank }}.country_name as {{ dbt.type_string() }}) as supplier_{{ rank }}_name,
    cast(top.supplier_{{ rank }}_share as {{ type_double() }}) as supplier_{{ rank }}_share,
    {% endfor %}
    {{ ratio('flagged.imports_via_split_usd', 'flagged.imports_world_usd') }} as imports_via_split_conversion_share,
    year_source.is_synthetic,
    cast(year_source.data_source as {{ dbt.type_string() }}) as data_source,
    cast(year_source.valuation as {{ dbt.type_string() }}) as valuation
from flagged
left join {{ ref('int_china_top_suppliers') }} as top
    on top.year = flagged.year and top.hs6 = flagged.hs6
{% for rank in (1, 2, 3) %}
left join countries as supplier_{{ rank }}
    on supplier_{{ rank }}.country_code = top.supplier_{{ rank }}_code
{% endfor %}
left join products
    on products.hs6 = flagged.hs6
left join product_sectors
    on product_sectors.hs6 = flagged.hs6
left join year_source
    on year_source.year = flagged.year
