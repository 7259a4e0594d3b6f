-- How concentrated world exports of each HS6 product are, per year: world-export HHI = sum over
-- exporters e of (X[e] / X[World])^2, in [0, 1], from every flow in BACI (all importers). Squares are
-- summed as exact integers, so the result does not depend on summation order.
with exports_by_exporter as (
    select year, hs6, exporter_code, sum(value_usd) as value_usd
    from {{ ref('stg_baci__trade') }}
    group by year, hs6, exporter_code
),

totals as (
    select
        year,
        hs6,
        sum(value_usd) as world_exports_usd,
        sum(cast(value_usd as decimal(38, 0)) * cast(value_usd as decimal(38, 0))) as sum_of_squares,
        count(*) as exporter_count
    from exports_by_exporter
    group by year, hs6
)

select
    year,
    hs6,
    cast(world_exports_usd as bigint) as world_exports_usd,
    cast(exporter_count as integer) as exporter_count,
    case when world_exports_usd > 0 then
        cast(sum_of_squares as {{ type_double() }})
        / (cast(world_exports_usd as {{ type_double() }}) * cast(world_exports_usd as {{ type_double() }}))
    end as world_export_hhi
from totals
