-- China's import dependency per HS6 product and year (importer China = BACI code 156), with the
-- dependency screen of CEPII GeoDep / the European Commission: dependent when the supplier HHI, the
-- world-export HHI and the import/export ratio all pass their thresholds (dbt vars); persistent when
-- dependent in at least persistent_min_years of the persistent_window_years years ending with this one;
-- a chokepoint when dependent and the chokepoint group (default US+EU) supplies more than chokepoint_share.
with totals as (
    select year, hs6, imports_world_usd, exports_world_usd, supplier_hhi, supplier_count
    from {{ ref('int_china_product_totals') }}
),

by_group as (
    select year, hs6, partner_group, imports_usd
    from {{ ref('int_china_product_imports_by_partner') }}
),

screened as (
    select
        totals.year,
        totals.hs6,
        totals.imports_world_usd,
        totals.exports_world_usd,
        totals.supplier_hhi,
        totals.supplier_count,
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
        on world.year = totals.year and world.hs6 = totals.hs6
    left join by_group as us
        on us.year = totals.year and us.hs6 = totals.hs6 and us.partner_group = 'US'
    left join by_group as eu
        on eu.year = totals.year and eu.hs6 = totals.hs6 and eu.partner_group = 'EU27'
    left join by_group as choke
        on choke.year = totals.year and choke.hs6 = totals.hs6 and choke.partner_group = '{{ var("chokepoint_group") }}'
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

product_sectors as (
    select hs6, {{ dbt.listagg('sector', "'; '", 'order by sector') }} as sectors
    from {{ ref('int_sector_products') }}
    group by hs6
),

build_source as (
    select is_synthetic, data_source from {{ ref('int_build_source') }}
)

select
    cast(screened.hs6 as varchar) as hs6,
    cast(screened.year as integer) as year,
    cast('{{ var("hs_revision") }}' as varchar) as hs_revision,
    cast(product_sectors.sectors as varchar) as sectors,
    cast(screened.imports_world_usd as double precision) as imports_from_world_usd,
    cast(screened.imports_us_usd as double precision) as imports_from_us_usd,
    cast(screened.imports_eu27_usd as double precision) as imports_from_eu27_usd,
    cast(screened.imports_chokepoint_group_usd as double precision) as imports_from_chokepoint_group_usd,
    {% for column, value in [('us_import_share', 'imports_us_usd'), ('eu27_import_share', 'imports_eu27_usd'),
                              ('chokepoint_group_import_share', 'imports_chokepoint_group_usd')] %}
    {{ ratio('screened.' ~ value, 'screened.imports_world_usd') }} as {{ column }},
    {% endfor %}
    cast(screened.exports_world_usd as double precision) as exports_to_world_usd,
    {{ ratio('screened.imports_world_usd', 'screened.exports_world_usd') }} as net_import_ratio,
    screened.exports_world_usd = 0 as has_no_exports,
    {{ ratio('screened.exports_world_usd - screened.imports_world_usd', 'screened.exports_world_usd + screened.imports_world_usd') }} as normalised_trade_balance,
    cast(screened.supplier_hhi as double precision) as supplier_hhi,
    cast(screened.world_export_hhi as double precision) as world_export_hhi,
    cast(screened.supplier_count as integer) as supplier_count,
    screened.is_dependent,
    cast(persistence.dependent_years_in_window as integer) as dependent_years_in_window,
    persistence.dependent_years_in_window >= {{ var('persistent_min_years') }} as is_persistent_dependency,
    screened.is_dependent and coalesce(
        screened.imports_world_usd > 0
        and cast(screened.imports_chokepoint_group_usd as double precision)
            > {{ var('chokepoint_share') }} * cast(screened.imports_world_usd as double precision),
        false
    ) as is_chokepoint,
    cast(top.supplier_1_code as integer) as supplier_1_code,
    cast(top.supplier_1_share as double precision) as supplier_1_share,
    cast(top.supplier_2_code as integer) as supplier_2_code,
    cast(top.supplier_2_share as double precision) as supplier_2_share,
    cast(top.supplier_3_code as integer) as supplier_3_code,
    cast(top.supplier_3_share as double precision) as supplier_3_share,
    build_source.is_synthetic,
    cast(build_source.data_source as varchar) as data_source
from screened
inner join persistence
    on persistence.year = screened.year and persistence.hs6 = screened.hs6
left join {{ ref('int_china_top_suppliers') }} as top
    on top.year = screened.year and top.hs6 = screened.hs6
left join product_sectors
    on product_sectors.hs6 = screened.hs6
cross join build_source
