-- China's imports from the world, exports to the world and supplier HHI, per HS6 product and year, with the
-- quantities (tonnes) behind each: unit values divide the value of the flows that have a quantity by it
-- (BACI lacks a quantity for about 2% of flows).
-- HHI = sum over exporters e of (M[e] / M[World])^2 = sum(M[e]^2) / M[World]^2, in [0, 1]; null when China
-- imports nothing. The squares are summed as exact integers (decimal(38,0)), so the result does not depend
-- on summation order.
with trade as (
    select * from {{ ref('stg_baci__trade') }}
),

imports_by_supplier as (
    select
        year,
        hs6,
        exporter_code,
        sum(value_usd) as value_usd,
        sum(cast(quantity_tonnes as decimal(38, 3))) as quantity_tonnes,
        sum(case when quantity_tonnes is not null then value_usd end) as value_with_quantity_usd
    from trade
    where importer_code = {{ var('china_code') }}
    group by year, hs6, exporter_code
),

import_totals as (
    select
        year,
        hs6,
        sum(value_usd) as imports_world_usd,
        count(*) as supplier_count,
        sum(quantity_tonnes) as imports_tonnes,
        sum(value_with_quantity_usd) as imports_with_quantity_usd
    from imports_by_supplier
    group by year, hs6
),

supplier_hhi as (
    select
        import_totals.year,
        import_totals.hs6,
        cast(squares.sum_of_squares as double precision)
        / (cast(import_totals.imports_world_usd as double precision) * cast(import_totals.imports_world_usd as double precision))
            as supplier_hhi
    from import_totals
    inner join (
        select
            year,
            hs6,
            sum(cast(value_usd as decimal(38, 0)) * cast(value_usd as decimal(38, 0))) as sum_of_squares
        from imports_by_supplier
        group by year, hs6
    ) as squares
        on squares.year = import_totals.year
        and squares.hs6 = import_totals.hs6
    where import_totals.imports_world_usd > 0
),

export_totals as (
    select
        year,
        hs6,
        sum(value_usd) as exports_world_usd,
        sum(cast(quantity_tonnes as decimal(38, 3))) as exports_tonnes,
        sum(case when quantity_tonnes is not null then value_usd end) as exports_with_quantity_usd
    from trade
    where exporter_code = {{ var('china_code') }}
    group by year, hs6
)

select
    coalesce(import_totals.year, export_totals.year) as year,
    coalesce(import_totals.hs6, export_totals.hs6) as hs6,
    cast(coalesce(import_totals.imports_world_usd, 0) as bigint) as imports_world_usd,
    cast(coalesce(export_totals.exports_world_usd, 0) as bigint) as exports_world_usd,
    coalesce(import_totals.supplier_count, 0) as supplier_count,
    supplier_hhi.supplier_hhi,
    cast(import_totals.imports_tonnes as double precision) as imports_tonnes,
    cast(coalesce(import_totals.imports_with_quantity_usd, 0) as bigint) as imports_with_quantity_usd,
    cast(export_totals.exports_tonnes as double precision) as exports_tonnes,
    cast(coalesce(export_totals.exports_with_quantity_usd, 0) as bigint) as exports_with_quantity_usd
from import_totals
full outer join export_totals
    on import_totals.year = export_totals.year
    and import_totals.hs6 = export_totals.hs6
left join supplier_hhi
    on supplier_hhi.year = coalesce(import_totals.year, export_totals.year)
    and supplier_hhi.hs6 = coalesce(import_totals.hs6, export_totals.hs6)
