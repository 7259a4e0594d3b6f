-- Every prefix of the sector map, in every revision, must match at least one HS6 code of that revision
-- (hs_products): a typo or a code that moved between revisions fails here.
select sector_map.sector, sector_map.hs_revision, sector_map.hs_prefix
from {{ ref('sector_hs_map') }} as sector_map
where not exists (
    select 1
    from {{ ref('hs_products') }} as products
    where products.hs_revision = sector_map.hs_revision
      and products.hs6 like sector_map.hs_prefix || '%'
)
