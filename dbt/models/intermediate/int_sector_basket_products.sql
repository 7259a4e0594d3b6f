-- The HS6 products of the build's revision (var hs_revision) in each sector's baskets:
-- - 'full': every product of the sector's core rows: the headline basket;
-- - 'comparable': the full basket's products that correspond one-to-one across HS12, HS17 and HS22 and stay in
--   the sector's core basket in every revision, so the basket means the same in every year (no break);
-- - 'broad': the full basket plus the sector's broad-scope rows (broad proxies, e.g. every static converter
--   in Green energy); only for sectors that have such rows.
-- A product can be in two sectors (e.g. lithium-ion cells: New-energy vehicles and Green energy).
with revision_products as (
    select sector, subsector, scope, hs_revision, hs6
    from {{ ref('int_sector_revision_products') }}
),

build_products as (
    select sector, subsector, scope, hs6
    from revision_products
    where hs_revision = '{{ var("hs_revision") }}'
),

core_products as (
    select distinct sector, hs_revision, hs6
    from revision_products
    where scope = 'core'
),

one_to_one as (
    select hs6, hs12_hs6, hs17_hs6, hs22_hs6
    from {{ ref('int_hs_one_to_one') }}
    where hs_revision = '{{ var("hs_revision") }}'
),

comparable as (
    select build_products.sector, build_products.subsector, build_products.scope, build_products.hs6
    from build_products
    inner join one_to_one
        on one_to_one.hs6 = build_products.hs6
    inner join core_products as in_hs12
        on in_hs12.sector = build_products.sector and in_hs12.hs_revision = 'HS12' and in_hs12.hs6 = one_to_one.hs12_hs6
    inner join core_products as in_hs17
        on in_hs17.sector = build_products.sector and in_hs17.hs_revision = 'HS17' and in_hs17.hs6 = one_to_one.hs17_hs6
    inner join core_products as in_hs22
        on in_hs22.sector = build_products.sector and in_hs22.hs_revision = 'HS22' and in_hs22.hs6 = one_to_one.hs22_hs6
    where build_products.scope = 'core'
),

sectors_with_broad_scope as (
    select distinct sector from build_products where scope = 'broad'
)

select sector, 'full' as basket, subsector, scope, hs6
from build_products
where scope = 'core'

union all

select sector, 'comparable' as basket, subsector, scope, hs6
from comparable

union all

select build_products.sector, 'broad' as basket, build_products.subsector, build_products.scope, build_products.hs6
from build_products
inner join sectors_with_broad_scope
    on sectors_with_broad_scope.sector = build_products.sector
