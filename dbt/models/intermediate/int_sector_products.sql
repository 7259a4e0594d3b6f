-- Each HS6 product of the configured revision in each sector whose seed prefixes match it.
-- A product can belong to several sectors (e.g. lithium-ion cells: new-energy vehicles and green energy).
with sector_prefixes as (
    select sector, hs_prefix
    from {{ ref('sector_hs_map') }}
    where hs_revision = '{{ var("hs_revision") }}'
),

products as (
    select hs6 from {{ ref('stg_baci__products') }}
)

select distinct
    sector_prefixes.sector,
    products.hs6
from sector_prefixes
inner join products
    on products.hs6 like sector_prefixes.hs_prefix || '%'
