-- The breaks seed (sector_basket_breaks) must be exactly the breaks the sector map and the UNSD correlation
-- tables give: a newer code linked to a build code on the other side of a sector's core-basket boundary
-- (scripts/derive_basket_breaks.py explains the rule and regenerates the seed). Returns every break missing
-- from the seed, and every seed row that is not a break, or whose change or flags differ.
with core as (
    select distinct sector, hs_revision, hs6
    from {{ ref('int_sector_revision_products') }}
    where scope = 'core'
),

sectors as (
    select distinct sector from {{ ref('sector_hs_map') }}
),

links as (
    select newer_revision, newer_hs6, older_revision, older_hs6, is_conversion
    from {{ ref('hs_correspondence') }}
),

-- Every link from a newer code to a build-revision code: the two tables, and HS22 to HS12 through HS17.
build_links as (
    select newer_revision, newer_hs6, older_revision as build_revision, older_hs6 as build_hs6,
           cast(null as {{ dbt.type_string() }}) as middle_hs6, is_conversion
    from links
    union all
    select hs22.newer_revision, hs22.newer_hs6, 'HS12' as build_revision, hs17.older_hs6 as build_hs6,
           hs22.older_hs6 as middle_hs6, hs22.is_conversion and hs17.is_conversion as is_conversion
    from links as hs22
    inner join links as hs17
        on hs17.newer_revision = 'HS17' and hs17.newer_hs6 = hs22.older_hs6
    where hs22.newer_revision = 'HS22'
),

placed as (
    select
        sectors.sector,
        build_links.*,
        newer_core.hs6 is not null as newer_inside,
        build_core.hs6 is not null as build_inside,
        -- HS22 to HS12 counts only where the HS22-HS17 step crosses too (else it continues a 2017 break)
        build_links.middle_hs6 is null or (middle_core.hs6 is not null) <> (newer_core.hs6 is not null) as may_cross
    from build_links
    cross join sectors
    left join core as newer_core
        on newer_core.sector = sectors.sector and newer_core.hs_revision = build_links.newer_revision
        and newer_core.hs6 = build_links.newer_hs6
    left join core as build_core
        on build_core.sector = sectors.sector and build_core.hs_revision = build_links.build_revision
        and build_core.hs6 = build_links.build_hs6
    left join core as middle_core
        on middle_core.sector = sectors.sector and middle_core.hs_revision = 'HS17'
        and middle_core.hs6 = build_links.middle_hs6
),

per_code as (
    select
        sector,
        build_revision,
        newer_revision,
        newer_hs6,
        max(case when newer_inside then 1 else 0 end) as newer_inside_flag,
        count(distinct build_hs6) as linked_build_codes,
        count(distinct case when may_cross and build_inside <> newer_inside then build_hs6 end) as crossing_build_codes,
        max(case when may_cross and build_inside <> newer_inside and is_conversion then 1 else 0 end) as via_conversion_flag
    from placed
    group by sector, build_revision, newer_revision, newer_hs6
),

computed as (
    select
        sector,
        build_revision,
        case newer_revision when 'HS17' then 2017 when 'HS22' then 2022 end as from_year,
        newer_revision,
        newer_hs6,
        case when newer_inside_flag = 1 then 'leaves' else 'enters' end as change,
        via_conversion_flag = 1 as via_conversion,
        cast(crossing_build_codes as integer) as crossing_build_codes,
        cast(linked_build_codes as integer) as linked_build_codes,
        via_conversion_flag = 0 and linked_build_codes > {{ var('basket_break_diffuse_links') }} as is_diffuse
    from per_code
    where crossing_build_codes > 0
),

listed as (
    select sector, build_revision, from_year, newer_revision, newer_hs6, change, via_conversion,
           crossing_build_codes, linked_build_codes, is_diffuse
    from {{ ref('sector_basket_breaks') }}
),

missing as (
    select 'missing from the seed' as problem, computed.* from computed
    except
    select 'missing from the seed' as problem, listed.* from listed
),

not_a_break as (
    select 'listed but not a break as listed' as problem, listed.* from listed
    except
    select 'listed but not a break as listed' as problem, computed.* from computed
)

select * from missing
union all
select * from not_a_break
