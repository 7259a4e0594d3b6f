-- China's imports (M) and exports (X) per HS6 product, partner and year, BACI and UN Comtrade side by
-- side: BACI for every year it covers, China's own reports to Comtrade only for years BACI lacks, so no
-- year is counted twice. partner_code 0 is the world total. BACI values are FOB (reconciled); Comtrade's
-- primary values are CIF for imports and FOB for exports. HS codes are in each source's revision.
with baci as (
    select year, importer_code, exporter_code, hs6, value_usd
    from {{ ref('stg_baci__trade') }}
    where importer_code = {{ var('china_code') }} or exporter_code = {{ var('china_code') }}
),

baci_flows as (
    select
        year,
        case when importer_code = {{ var('china_code') }} then 'M' else 'X' end as flow_code,
        case when importer_code = {{ var('china_code') }} then exporter_code else importer_code end as partner_code,
        hs6,
        value_usd
    from baci
),

baci_with_world as (
    select year, flow_code, partner_code, hs6, value_usd from baci_flows
    union all
    select year, flow_code, 0 as partner_code, hs6, sum(value_usd) as value_usd
    from baci_flows
    group by year, flow_code, hs6
),

comtrade_flows as (
    select year, flow_code, partner_code, hs6, hs_revision, primary_value_usd as value_usd
    from {{ ref('stg_comtrade__flows') }}
    where reporter_code = {{ var('china_code') }}
      and primary_value_usd is not null
      and year not in (select distinct year from baci_flows)
)

select
    year,
    flow_code,
    partner_code,
    hs6,
    '{{ var("hs_revision") }}' as hs_revision,
    cast(value_usd as double precision) as value_usd,
    'FOB' as valuation,
    'BACI' as source
from baci_with_world

union all

select
    year,
    flow_code,
    partner_code,
    hs6,
    hs_revision,
    cast(value_usd as double precision) as value_usd,
    case when flow_code = 'M' then 'CIF' else 'FOB' end as valuation,
    'UN Comtrade (China-reported)' as source
from comtrade_flows
