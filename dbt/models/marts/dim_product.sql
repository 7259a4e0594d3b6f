-- HS6 products of the configured revision with the sectors they belong to (a product can be in two
-- sectors, e.g. lithium-ion cells: New-energy vehicles and Green energy). Sector lists are sorted and
-- separated by '; '.
with products as (
    select hs6, description, hs_revision
    from {{ ref('stg_baci__products') }}
),

sectors_per_product as (
    select
        hs6,
        {{ dbt.listagg('sector', "'; '", 'order by sector') }} as sectors,
        count(*) as sector_count
    from (select distinct sector, hs6 from {{ ref('int_sector_products') }}) as distinct_sector_products
    group by hs6
)

select
    cast(products.hs6 as varchar) as hs6,
    cast(products.description as varchar) as description,
    cast(products.hs_revision as varchar) as hs_revision,
    cast(sectors_per_product.sectors as varchar) as sectors,
    cast(coalesce(sectors_per_product.sector_count, 0) as integer) as sector_count
from products
left join sectors_per_product
    on sectors_per_product.hs6 = products.hs6
