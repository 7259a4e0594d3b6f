-- The years of the two windows every trend compares, trend_window_years years each: the baseline (years
-- baseline_first_year-baseline_last_year that the build holds; when it holds none of them, its first years)
-- and the latest (the build's last years). When the build is short the windows overlap.
with build_years as (
    select distinct year from {{ ref('int_china_product_totals') }}
),

ranked_years as (
    select
        year,
        row_number() over (order by year) as rank_from_first,
        row_number() over (order by year desc) as rank_from_last
    from build_years
),

configured_baseline as (
    select year from build_years
    where year between {{ var('baseline_first_year') }} and {{ var('baseline_last_year') }}
)

select 'baseline' as window_name, year, 'configured baseline years' as basis
from configured_baseline

union all

select 'baseline' as window_name, ranked_years.year, 'first years of the build' as basis
from ranked_years
cross join (select count(*) as configured_count from configured_baseline) as configured
where configured.configured_count = 0
  and ranked_years.rank_from_first <= {{ var('trend_window_years') }}

union all

select 'latest' as window_name, year, 'last years of the build' as basis
from ranked_years
where rank_from_last <= {{ var('trend_window_years') }}
