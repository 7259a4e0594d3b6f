-- China's imports from the world, exports to the world and supplier HHI, per HS6 product and year, from the
-- spliced flows (int_china_flows: BACI, then China's reports to Comtrade), with the quantities (tonnes) behind
-- each: unit values divide the value of the flows that have a quantity by it (BACI lacks a quantity for about 2%
-- of flows). HHI = sum over exporters e of (M[e] / M[World])^2 = sum(M[e]^2) / M[World]^2, in [0, 1]; null when
-- China imports nothing. The squares are summed as exact integers (decimal(38,0)), so the result does not depend
-- on summation order.
with flows as (
    select * from {{ ref('int_china_flows') }}
),

imports_by_supplier as (
    select
        year,
        hs6,
        partner_code,
        sum(value_usd) as value_usd,
        sum(quantity_tonnes) as quantity_tonnes,
        sum(value_with_quantity_usd) as value_with_quantity_usd,
        sum(value_via_split_usd) as value_via_split_usd
    from flows
    where flow_code = 'M'
    group by year, hs6, partner_code
),

import_totals as (
    select
        year,
        hs6,
        sum(value_usd) as imports_world_usd,
        count(*) as supplier_count,
        sum(quantity_tonnes) as imports_tonnes,
        sum(value_with_quantity_usd) as imports_with_quantity_usd,
        sum(value_via_split_usd) as imports_via_split_usd,
        sum(cast(value_usd as decimal(38, 0)) * cast(value_usd as decimal(38, 0))) as sum_of_squares
    from imports_by_supplier
    group by year, hs6
),

export_totals as (
    select
        year,
        hs6,
        sum(value_usd) as exports_world_usd,
        sum(quantity_tonnes) as exports_tonnes,
        sum(value_with_quantity_usd) as exports_with_quantity_usd
    from flows
    where flow_code = 'X'
    group by year, hs6
)

select
    coalesce(import_totals.year, export_totals.year) as year,
    coalesce(import_totals.hs6, export_totals.hs6) as hs6,
    cast(coalesce(import_totals.imports_world_usd, 0) as bigint) as imports_world_usd,
    cast(coalesce(export_totals.exports_world_usd, 0) as bigint) as exports_world_usd,
    coalesce(import_totals.supplier_count, 0) as supplier_count,
    case when import_totals.imports_world_usd > 0 then
        cast(import_totals.sum_of_squares as {{ type_double() }})
        / (cast(import_totals.imports_world_usd as {{ type_double() }}) * cast(import_totals.imports_world_usd as {{ type_double() }}))
    end as supplier_hhi,
    cast(import_totals.imports_tonnes as {{ type_double() }}) as imports_tonnes,
    cast(coalesce(import_totals.imports_with_quantity_usd, 0) as bigint) as imports_with_quantity_usd,
    cast(export_totals.exports_tonnes as {{ type_double() }}) as exports_tonnes,
    cast(coalesce(export_totals.exports_with_quantity_usd, 0) as bigint) as exports_with_quantity_usd,
    cast(coalesce(import_totals.imports_via_split_usd, 0) as bigint) as imports_via_split_usd
from import_totals
full outer join export_totals
    on import_totals.year = export_totals.year
    and import_totals.hs6 = export_totals.hs6
