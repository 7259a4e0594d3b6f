-- One row saying where the trade data under the marts comes from, over every year (int_year_source: BACI, then
-- China's reports to Comtrade for the years BACI lacks), and whether any of it is the synthetic sample.
with sources as (
    select source, data_source, min(year) as first_year, max(year) as last_year, max(case when is_synthetic then 1 else 0 end) as synthetic_flag
    from {{ ref('int_year_source') }}
    group by source, data_source
)

select
    coalesce(max(synthetic_flag), 0) = 1 as is_synthetic,
    coalesce(
        {{ dbt.listagg("data_source || ' ' || cast(first_year as " ~ dbt.type_string() ~ ") || '-' || cast(last_year as " ~ dbt.type_string() ~ ")", "'; then '", 'order by first_year') }},
        'no data'
    ) as data_source
from sources
