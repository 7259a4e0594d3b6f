-- Every prefix the sector map gives for the configured revision must match at least one product
-- in that revision's product list; a typo or a code that moved between revisions fails here.
select sector_map.sector, sector_map.hs_prefix
from {{ ref('sector_hs_map') }} as sector_map
where sector_map.hs_revision = '{{ var("hs_revision") }}'
  and not exists (
      select 1
      from {{ ref('stg_baci__products') }} as products
      where products.hs6 like sector_map.hs_prefix || '%'
  )
