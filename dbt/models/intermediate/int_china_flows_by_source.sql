-- China's trade per year, HS6 product of the build's revision and partner, from each source side by side:
-- imports by partner (flow M) and exports to the world (flow X, partner 0). BACI (reconciled, FOB) covers the
-- build's years; China's annual reports to UN Comtrade (imports CIF, exports FOB), converted to the build's
-- revision, cover the years asked of Comtrade. A year can be in both (the overlap year): int_china_flows keeps one
-- source per year, fct_source_overlap sets them side by side. Values are exact integers; value_with_quantity_usd is
-- the value of the flows that carry a quantity (the numerator of a unit value); value_via_split_usd the value
-- converted through an approximate (split) conversion.
with baci as (
    select year, exporter_code, importer_code, hs6, value_usd, quantity_tonnes
    from {{ ref('stg_baci__trade') }}
    where importer_code = {{ var('china_code') }} or exporter_code = {{ var('china_code') }}
),

comtrade as (
    select year, flow_code, partner_code, hs6, value_usd, quantity_tonnes, conversion_relationship
    from {{ ref('int_comtrade_china_flows') }}
    where freq_code = 'A'
      and hs6 is not null
      and ((flow_code = 'M' and partner_code <> 0) or (flow_code = 'X' and partner_code = 0))
)

select
    'baci' as source,
    year,
    'M' as flow_code,
    exporter_code as partner_code,
    hs6,
    cast(value_usd as bigint) as value_usd,
    cast(quantity_tonnes as decimal(38, 3)) as quantity_tonnes,
    cast(case when quantity_tonnes is not null then value_usd else 0 end as bigint) as value_with_quantity_usd,
    cast(0 as bigint) as value_via_split_usd
from baci
where importer_code = {{ var('china_code') }}

union all

select
    'baci' as source,
    year,
    'X' as flow_code,
    0 as partner_code,
    hs6,
    cast(sum(value_usd) as bigint) as value_usd,
    cast(sum(cast(quantity_tonnes as decimal(38, 3))) as decimal(38, 3)) as quantity_tonnes,
    cast(sum(case when quantity_tonnes is not null then value_usd else 0 end) as bigint) as value_with_quantity_usd,
    cast(0 as bigint) as value_via_split_usd
from baci
where exporter_code = {{ var('china_code') }}
group by year, hs6

union all

select
    'comtrade' as source,
    year,
    flow_code,
    partner_code,
    hs6,
    cast(sum(value_usd) as bigint) as value_usd,
    cast(sum(quantity_tonnes) as decimal(38, 3)) as quantity_tonnes,
    cast(sum(case when quantity_tonnes is not null then value_usd else 0 end) as bigint) as value_with_quantity_usd,
    cast(sum(case when conversion_relationship = 'split' then value_usd else 0 end) as bigint) as value_via_split_usd
from comtrade
group by year, flow_code, partner_code, hs6
