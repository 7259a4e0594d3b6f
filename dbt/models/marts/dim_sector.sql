-- Sectors of the sector_hs_map seed: their subsectors and HS prefixes in the configured revision
-- (var hs_revision), how many HS6 products that gives, the ISIC industries they link to, and the public
-- claim about them. Lists are sorted and separated by '; ' (subsector names can contain commas).
with sector_map as (
    select sector, subsector, hs_revision, hs_prefix
    from {{ ref('sector_hs_map') }}
),

sectors as (
    select distinct sector from sector_map
),

revision_map as (
    select sector, subsector, hs_prefix
    from sector_map
    where hs_revision = '{{ var("hs_revision") }}'
),

subsectors as (
    select sector, {{ dbt.listagg('subsector', "'; '", 'order by subsector') }} as subsectors
    from (select distinct sector, subsector from revision_map) as distinct_subsectors
    group by sector
),

prefixes as (
    select sector, {{ dbt.listagg('hs_prefix', "'; '", 'order by hs_prefix') }} as hs_prefixes
    from (select distinct sector, hs_prefix from revision_map) as distinct_prefixes
    group by sector
),

products as (
    select sector, count(distinct hs6) as product_count
    from {{ ref('int_sector_products') }}
    group by sector
),

industries as (
    select sector, {{ dbt.listagg('isic_activity', "'; '", 'order by isic_activity') }} as isic_activities
    from (select distinct sector, isic_activity from {{ ref('sector_isic_map') }}) as distinct_industries
    group by sector
),

claims as (
    select sector, claim, claimed_direction, claim_source
    from {{ ref('sector_claims') }}
)

select
    cast(sectors.sector as varchar) as sector,
    cast(subsectors.subsectors as varchar) as subsectors,
    cast('{{ var("hs_revision") }}' as varchar) as hs_revision,
    cast(prefixes.hs_prefixes as varchar) as hs_prefixes,
    cast(coalesce(products.product_count, 0) as integer) as product_count,
    cast(industries.isic_activities as varchar) as isic_activities,
    cast(claims.claim as varchar) as claim,
    cast(claims.claimed_direction as varchar) as claimed_direction,
    cast(claims.claim_source as varchar) as claim_source
from sectors
left join subsectors on subsectors.sector = sectors.sector
left join prefixes on prefixes.sector = sectors.sector
left join products on products.sector = sectors.sector
left join industries on industries.sector = sectors.sector
left join claims on claims.sector = sectors.sector
