-- HS6 products of the configured revision with the sectors they belong to (a product can be in two sectors,
-- e.g. lithium-ion cells: New-energy vehicles and Green energy) and whether they correspond one-to-one across
-- HS12, HS17 and HS22 (their counterparts then given). Sector lists are sorted and separated by '; '.
with products as (
    select hs6, description, hs_revision
    from {{ ref('stg_baci__products') }}
),

sectors_per_product as (
    select
        hs6,
        {{ dbt.listagg('sector', "'; '", 'order by sector') }} as sectors,
        count(*) as sector_count
    from (select distinct sector, hs6 from {{ ref('int_sector_basket_products') }}) as distinct_sector_products
    group by hs6
),

one_to_one as (
    select hs6, hs12_hs6, hs17_hs6, hs22_hs6
    from {{ ref('int_hs_one_to_one') }}
    where hs_revision = '{{ var("hs_revision") }}'
)

select
    cast(products.hs6 as {{ dbt.type_string() }}) as hs6,
    cast(products.description as {{ dbt.type_string() }}) as description,
    cast(products.hs_revision as {{ dbt.type_string() }}) as hs_revision,
    cast(sectors_per_product.sectors as {{ dbt.type_string() }}) as sectors,
    cast(coalesce(sectors_per_product.sector_count, 0) as integer) as sector_count,
    one_to_one.hs6 is not null as is_one_to_one_across_revisions,
    cast(one_to_one.hs12_hs6 as {{ dbt.type_string() }}) as hs12_hs6,
    cast(one_to_one.hs17_hs6 as {{ dbt.type_string() }}) as hs17_hs6,
    cast(one_to_one.hs22_hs6 as {{ dbt.type_string() }}) as hs22_hs6
from products
left join sectors_per_product
    on sectors_per_product.hs6 = products.hs6
left join one_to_one
    on one_to_one.hs6 = products.hs6
