-- The links of the UNSD correlation tables (hs_correspondence) with, for each, how many links its newer code and its
-- older code have: a code is one-to-one with the next revision when both counts are 1; a newer code with several
-- links is split between older codes; an older code with several links merges several newer ones.
with links as (
    select newer_revision, newer_hs6, older_revision, older_hs6, is_conversion
    from {{ ref('hs_correspondence') }}
),

newer_link_counts as (
    select newer_revision, newer_hs6, count(*) as newer_link_count
    from links
    group by newer_revision, newer_hs6
),

older_link_counts as (
    select older_revision, older_hs6, count(*) as older_link_count
    from links
    group by older_revision, older_hs6
)

select
    links.newer_revision,
    links.newer_hs6,
    links.older_revision,
    links.older_hs6,
    links.is_conversion,
    newer_link_counts.newer_link_count,
    older_link_counts.older_link_count
from links
inner join newer_link_counts
    on newer_link_counts.newer_revision = links.newer_revision and newer_link_counts.newer_hs6 = links.newer_hs6
inner join older_link_counts
    on older_link_counts.older_revision = links.older_revision and older_link_counts.older_hs6 = links.older_hs6
