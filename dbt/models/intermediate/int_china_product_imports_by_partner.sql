-- China's imports per HS6 product, year and partner group (groups are rows of the partner_group seed;
-- a row with an empty country_code stands for every exporter, i.e. the world).
with china_imports as (
    select year, hs6, exporter_code, value_usd
    from {{ ref('stg_baci__trade') }}
    where importer_code = {{ var('china_code') }}
),

partner_group as (
    select partner_group, country_code from {{ ref('partner_group') }}
)

select
    china_imports.year,
    china_imports.hs6,
    partner_group.partner_group,
    cast(sum(china_imports.value_usd) as bigint) as imports_usd
from china_imports
inner join partner_group
    on partner_group.country_code = china_imports.exporter_code
    or partner_group.country_code is null
group by china_imports.year, china_imports.hs6, partner_group.partner_group
