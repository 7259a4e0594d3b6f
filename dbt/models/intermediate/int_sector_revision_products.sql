-- Every HS6 code of every revision (the hs_products seed) in each sector whose prefixes in that revision
-- match it, with the subsector and scope of the matching row. The baskets of the build's revision and the
-- checks of the baskets across revisions (sector_basket_breaks) both start here.
with sector_map as (
    select sector, subsector, scope, hs_revision, hs_prefix
    from {{ ref('sector_hs_map') }}
),

products as (
    select hs_revision, hs6
    from {{ ref('hs_products') }}
)

select distinct
    sector_map.sector,
    sector_map.subsector,
    sector_map.scope,
    products.hs_revision,
    products.hs6
from sector_map
inner join products
    on products.hs_revision = sector_map.hs_revision
    and products.hs6 like sector_map.hs_prefix || '%'
