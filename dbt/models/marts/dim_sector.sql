-- Sectors of the sector_hs_map seed in the configured revision (var hs_revision): their subsectors and HS
-- prefixes, how many HS6 products each basket holds, how many breaks of meaning the full basket has in this
-- revision (sector_basket_breaks), the ISIC industries they link to, and what the seed article claims about
-- them. Lists are sorted and separated by '; ' (subsector names can contain commas).
with sector_map as (
    select sector, subsector, scope, hs_revision, hs_prefix
    from {{ ref('sector_hs_map') }}
),

sectors as (
    select distinct sector from sector_map
),

revision_map as (
    select sector, subsector, scope, hs_prefix
    from sector_map
    where hs_revision = '{{ var("hs_revision") }}'
),

subsectors as (
    select sector, {{ dbt.listagg('subsector', "'; '", 'order by subsector') }} as subsectors
    from (select distinct sector, subsector from revision_map) as distinct_subsectors
    group by sector
),

broad_subsectors as (
    select sector, {{ dbt.listagg('subsector', "'; '", 'order by subsector') }} as broad_subsectors
    from (select distinct sector, subsector from revision_map where scope = 'broad') as distinct_subsectors
    group by sector
),

prefixes as (
    select sector, {{ dbt.listagg('hs_prefix', "'; '", 'order by hs_prefix') }} as hs_prefixes
    from (select distinct sector, hs_prefix from revision_map) as distinct_prefixes
    group by sector
),

basket_counts as (
    select
        sector,
        count(distinct case when basket = 'full' then hs6 end) as full_product_count,
        count(distinct case when basket = 'comparable' then hs6 end) as comparable_product_count,
        count(distinct case when basket = 'broad' then hs6 end) as broad_product_count
    from {{ ref('int_sector_basket_products') }}
    group by sector
),

breaks as (
    select
        sector,
        sum(case when is_diffuse then 0 else 1 end) as break_count,
        sum(case when is_diffuse then 1 else 0 end) as diffuse_break_count
    from {{ ref('sector_basket_breaks') }}
    where build_revision = '{{ var("hs_revision") }}'
    group by sector
),

industries as (
    select sector, {{ dbt.listagg('isic_activity', "'; '", 'order by isic_activity') }} as isic_activities
    from (select distinct sector, isic_activity from {{ ref('sector_isic_map') }}) as distinct_industries
    group by sector
),

claims as (
    select sector, claim_type, claim_quote from {{ ref('sector_claims') }}
)

select
    cast(sectors.sector as {{ dbt.type_string() }}) as sector,
    cast(subsectors.subsectors as {{ dbt.type_string() }}) as subsectors,
    cast(broad_subsectors.broad_subsectors as {{ dbt.type_string() }}) as broad_subsectors,
    cast('{{ var("hs_revision") }}' as {{ dbt.type_string() }}) as hs_revision,
    cast(prefixes.hs_prefixes as {{ dbt.type_string() }}) as hs_prefixes,
    cast(coalesce(basket_counts.full_product_count, 0) as integer) as full_product_count,
    cast(coalesce(basket_counts.comparable_product_count, 0) as integer) as comparable_product_count,
    cast(coalesce(basket_counts.broad_product_count, 0) as integer) as broad_product_count,
    cast(coalesce(breaks.break_count, 0) as integer) as basket_break_count,
    cast(coalesce(breaks.diffuse_break_count, 0) as integer) as diffuse_basket_break_count,
    cast(industries.isic_activities as {{ dbt.type_string() }}) as isic_activities,
    cast(claims.claim_type as {{ dbt.type_string() }}) as claim_type,
    cast(claims.claim_quote as {{ dbt.type_string() }}) as claim_quote
from sectors
left join subsectors on subsectors.sector = sectors.sector
left join broad_subsectors on broad_subsectors.sector = sectors.sector
left join prefixes on prefixes.sector = sectors.sector
left join basket_counts on basket_counts.sector = sectors.sector
left join breaks on breaks.sector = sectors.sector
left join industries on industries.sector = sectors.sector
left join claims on claims.sector = sectors.sector
