-- One row saying where the trade data under the marts comes from, and whether it is synthetic.
with releases as (
    select
        release,
        max(case when is_synthetic then 1 else 0 end) as synthetic_flag
    from {{ ref('stg_baci__trade') }}
    group by release
)

select
    coalesce(max(synthetic_flag), 0) = 1 as is_synthetic,
    case
        when max(synthetic_flag) = 1
            then 'SYNTHETIC SAMPLE (invented numbers in BACI format, not real data)'
        else 'CEPII BACI ' || coalesce(max(release), 'no data') || ' ({{ var("hs_revision") }})'
    end as data_source
from releases
