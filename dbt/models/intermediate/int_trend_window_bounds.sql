-- The two trend windows of int_trend_windows in one row: each window's first and last year and how many years it
-- holds, and why the baseline years are what they are.
select
    min(case when window_name = 'baseline' then year end) as baseline_first_year,
    max(case when window_name = 'baseline' then year end) as baseline_last_year,
    count(case when window_name = 'baseline' then year end) as baseline_years_observed,
    max(case when window_name = 'baseline' then basis end) as baseline_basis,
    min(case when window_name = 'latest' then year end) as latest_first_year,
    max(case when window_name = 'latest' then year end) as latest_last_year,
    count(case when window_name = 'latest' then year end) as latest_years_observed
from {{ ref('int_trend_windows') }}
