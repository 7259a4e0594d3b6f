-- How an HS6 code of any revision converts to the build's revision (var hs_revision), following the UNSD
-- conversion tables (hs_correspondence rows with is_conversion: one older code per newer code), HS22 to HS12
-- through HS17. A code of the build's own revision converts to itself; a code of an older revision cannot be
-- converted to a newer one (it is not listed, so its records are counted as unconverted). The relationship says
-- how exact the conversion is: '1:1' (one code each way: exact), 'n:1' (several newer codes merge into one build
-- code: exact, the values add up) or 'split' (the newer code's content belongs to several build codes and the
-- conversion sends all of it to one: approximate).
{%- set build = var('hs_revision') %}

with steps as (
    select
        newer_revision,
        newer_hs6,
        older_hs6,
        case
            when newer_link_count > 1 then 'split'
            when older_link_count > 1 then 'n:1'
            else '1:1'
        end as relationship
    from {{ ref('int_hs_links') }}
    where is_conversion
),

conversions as (
    select hs_revision as source_revision, hs6 as source_hs6, hs6, '1:1' as relationship
    from {{ ref('hs_products') }}
    where hs_revision = '{{ build }}'
    {% if build in ('HS12', 'HS17') %}
    union all
    select newer_revision as source_revision, newer_hs6 as source_hs6, older_hs6 as hs6, relationship
    from steps
    where newer_revision = '{{ 'HS17' if build == 'HS12' else 'HS22' }}'
    {% endif %}
    {% if build == 'HS12' %}
    union all
    select
        hs22.newer_revision as source_revision,
        hs22.newer_hs6 as source_hs6,
        hs17.older_hs6 as hs6,
        case
            when hs22.relationship = 'split' or hs17.relationship = 'split' then 'split'
            when hs22.relationship = 'n:1' or hs17.relationship = 'n:1' then 'n:1'
            else '1:1'
        end as relationship
    from steps as hs22
    inner join steps as hs17
        on hs17.newer_revision = 'HS17' and hs17.newer_hs6 = hs22.older_hs6
    where hs22.newer_revision = 'HS22'
    {% endif %}
)

select source_revision, source_hs6, hs6, relationship, relationship = '1:1' as is_one_to_one
from conversions
