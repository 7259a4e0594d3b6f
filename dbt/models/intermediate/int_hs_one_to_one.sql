-- HS6 codes that correspond one-to-one across HS12, HS17 and HS22, with their counterparts: a code is
-- one-to-one with the next revision when it has exactly one link in the UNSD correlation table and so does
-- the code it links to (counted from the links, not read from the relationship label). One row per revision
-- and code of each such HS12-HS17-HS22 chain. Links of diffuse codes are left out first: a newer code linked
-- to more than basket_break_diffuse_links older codes (HS22 e-waste 8549, display modules 8524, transducers
-- 854151) takes a thin slice of each of them, and counting it would leave almost no code one-to-one.
with all_links as (
    select newer_revision, newer_hs6, older_revision, older_hs6
    from {{ ref('int_hs_links') }}
),

diffuse_codes as (
    select distinct newer_revision, newer_hs6
    from {{ ref('int_hs_links') }}
    where newer_link_count > {{ var('basket_break_diffuse_links') }}
),

links as (
    select all_links.*
    from all_links
    left join diffuse_codes
        on diffuse_codes.newer_revision = all_links.newer_revision
        and diffuse_codes.newer_hs6 = all_links.newer_hs6
    where diffuse_codes.newer_hs6 is null
),

-- Counted again without the diffuse codes' links.
newer_link_counts as (
    select newer_revision, newer_hs6, count(*) as link_count
    from links
    group by newer_revision, newer_hs6
),

older_link_counts as (
    select older_revision, older_hs6, count(*) as link_count
    from links
    group by older_revision, older_hs6
),

one_to_one_links as (
    select links.newer_revision, links.newer_hs6, links.older_hs6
    from links
    inner join newer_link_counts
        on newer_link_counts.newer_revision = links.newer_revision
        and newer_link_counts.newer_hs6 = links.newer_hs6
    inner join older_link_counts
        on older_link_counts.older_revision = links.older_revision
        and older_link_counts.older_hs6 = links.older_hs6
    where newer_link_counts.link_count = 1
      and older_link_counts.link_count = 1
),

chains as (
    select
        hs17_hs12.older_hs6 as hs12_hs6,
        hs17_hs12.newer_hs6 as hs17_hs6,
        hs22_hs17.newer_hs6 as hs22_hs6
    from one_to_one_links as hs17_hs12
    inner join one_to_one_links as hs22_hs17
        on hs22_hs17.older_hs6 = hs17_hs12.newer_hs6
    where hs17_hs12.newer_revision = 'HS17'
      and hs22_hs17.newer_revision = 'HS22'
)

select 'HS12' as hs_revision, hs12_hs6 as hs6, hs12_hs6, hs17_hs6, hs22_hs6 from chains
union all
select 'HS17' as hs_revision, hs17_hs6 as hs6, hs12_hs6, hs17_hs6, hs22_hs6 from chains
union all
select 'HS22' as hs_revision, hs22_hs6 as hs6, hs12_hs6, hs17_hs6, hs22_hs6 from chains
