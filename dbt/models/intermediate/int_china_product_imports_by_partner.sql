-- China's imports per HS6 product, year and partner group, from the spliced flows (int_china_flows). Groups are
-- rows of the partner_group seed; a row with an empty country_code stands for every exporter, i.e. the world.
with china_imports as (
    select year, hs6, partner_code, value_usd
    from {{ ref('int_china_flows') }}
    where flow_code = 'M'
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
    on partner_group.country_code = china_imports.partner_code
    or partner_group.country_code is null
group by china_imports.year, china_imports.hs6, partner_group.partner_group
