-- How China's import dependency on each partner group changed in each sector since the baseline year
-- ("Made in China 2025", 2015 by default: var baseline_year), set against the public claim for the sector.
-- Grain: one row per sector x partner group of fct_sector_dependency. Each ratio is read at the baseline
-- year (or, when that year is not in the data, the first year after it that is) and at the latest year.
-- The class of the partner-share change uses +-trend_stable_pp percentage points (default 2).
{%- set baseline_year = var('baseline_year', 2015) %}
{%- set stable_pp = var('trend_stable_pp', 2) %}

with dependency as (
    select
        sector,
        partner_group,
        year,
        hs_revision,
        imports_from_partner_usd,
        partner_import_share,
        net_import_ratio,
        supplier_hhi,
        is_synthetic,
        data_source
    from {{ ref('fct_sector_dependency') }}
),

-- The group(s) standing for every exporter (a seed row with an empty country_code): their share is 1 by
-- construction, so it measures nothing about dependency on a partner.
all_partner_groups as (
    select partner_group
    from {{ ref('partner_group') }}
    where country_code is null
    group by partner_group
),

claims as (
    select sector, claim, claimed_direction
    from {{ ref('sector_claims') }}
),

spans as (
    select
        sector,
        partner_group,
        min(case when year >= {{ baseline_year }} then year end) as baseline_year_used,
        max(year) as latest_year,
        max(hs_revision) as hs_revision,
        max(case when is_synthetic then 1 else 0 end) as synthetic_flag,
        max(data_source) as data_source
    from dependency
    group by sector, partner_group
),

endpoints as (
    select
        spans.sector,
        spans.partner_group,
        spans.hs_revision,
        spans.baseline_year_used,
        spans.latest_year,
        spans.synthetic_flag,
        spans.data_source,
        all_partner_groups.partner_group is not null as is_all_partners,
        baseline.imports_from_partner_usd as imports_from_partner_usd_baseline,
        latest.imports_from_partner_usd as imports_from_partner_usd_latest,
        baseline.partner_import_share as partner_import_share_baseline,
        latest.partner_import_share as partner_import_share_latest,
        baseline.net_import_ratio as net_import_ratio_baseline,
        latest.net_import_ratio as net_import_ratio_latest,
        baseline.supplier_hhi as supplier_hhi_baseline,
        latest.supplier_hhi as supplier_hhi_latest
    from spans
    left join dependency as baseline
        on baseline.sector = spans.sector
        and baseline.partner_group = spans.partner_group
        and baseline.year = spans.baseline_year_used
    left join dependency as latest
        on latest.sector = spans.sector
        and latest.partner_group = spans.partner_group
        and latest.year = spans.latest_year
    left join all_partner_groups
        on all_partner_groups.partner_group = spans.partner_group
),

changes as (
    select
        endpoints.*,
        -- Rounded to 1e-9 pp so that floating-point noise (0.32 - 0.30 = 0.0200000000000000178) cannot
        -- push a change of exactly the threshold into the next class.
        round(
            cast((partner_import_share_latest - partner_import_share_baseline) * 100 as double precision), 9
        ) as partner_import_share_change_pp,
        net_import_ratio_latest - net_import_ratio_baseline as net_import_ratio_change,
        supplier_hhi_latest - supplier_hhi_baseline as supplier_hhi_change
    from endpoints
),

classified as (
    select
        changes.*,
        case
            when is_all_partners then null
            when partner_import_share_change_pp is null then null
            when partner_import_share_change_pp < -{{ stable_pp }} then 'falling dependency'
            when partner_import_share_change_pp > {{ stable_pp }} then 'rising dependency'
            else 'stable'
        end as measured_direction
    from changes
)

select
    cast(classified.sector as varchar) as sector,
    cast(classified.partner_group as varchar) as partner_group,
    cast(classified.hs_revision as varchar) as hs_revision,
    cast({{ baseline_year }} as integer) as baseline_year,
    cast(classified.baseline_year_used as integer) as baseline_year_used,
    cast(classified.latest_year as integer) as latest_year,
    cast(classified.imports_from_partner_usd_baseline as double precision) as imports_from_partner_usd_baseline,
    cast(classified.imports_from_partner_usd_latest as double precision) as imports_from_partner_usd_latest,
    cast(classified.partner_import_share_baseline as double precision) as partner_import_share_baseline,
    cast(classified.partner_import_share_latest as double precision) as partner_import_share_latest,
    cast(classified.partner_import_share_change_pp as double precision) as partner_import_share_change_pp,
    cast(classified.net_import_ratio_baseline as double precision) as net_import_ratio_baseline,
    cast(classified.net_import_ratio_latest as double precision) as net_import_ratio_latest,
    cast(classified.net_import_ratio_change as double precision) as net_import_ratio_change,
    cast(classified.supplier_hhi_baseline as double precision) as supplier_hhi_baseline,
    cast(classified.supplier_hhi_latest as double precision) as supplier_hhi_latest,
    cast(classified.supplier_hhi_change as double precision) as supplier_hhi_change,
    classified.is_all_partners,
    cast(classified.measured_direction as varchar) as measured_direction,
    cast(claims.claim as varchar) as claim,
    cast(claims.claimed_direction as varchar) as claimed_direction,
    case
        when claims.claimed_direction is null or classified.measured_direction is null then null
        else claims.claimed_direction = classified.measured_direction
    end as claim_agrees,
    classified.synthetic_flag = 1 as is_synthetic,
    cast(classified.data_source as varchar) as data_source
from classified
left join claims
    on claims.sector = classified.sector
