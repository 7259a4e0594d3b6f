-- Where each year of the marts comes from (int_china_flows keeps one source per year): BACI (reconciled, FOB) or
-- China's own reports to UN Comtrade (imports CIF, exports FOB) converted from the revision China reported in to the
-- build's, with a plain-language description that says SYNTHETIC SAMPLE when the rows are the sample.
with flow_years as (
    select distinct source, year from {{ ref('int_china_flows') }}
),

baci as (
    select
        max(release) as release,
        max(case when is_synthetic then 1 else 0 end) as synthetic_flag
    from {{ ref('stg_baci__trade') }}
),

comtrade_years as (
    select
        year,
        {{ dbt.listagg('source_revision', "', '", 'order by source_revision') }} as source_revisions,
        max(case when is_synthetic then 1 else 0 end) as synthetic_flag
    from (
        select distinct year, source_revision, is_synthetic
        from {{ ref('int_comtrade_china_flows') }}
        where freq_code = 'A' and hs6 is not null
    ) as distinct_revisions
    group by year
)

select
    flow_years.year,
    flow_years.source,
    cast(
        case
            when flow_years.source = 'baci' and baci.synthetic_flag = 1
                then 'SYNTHETIC SAMPLE (invented numbers in BACI format, not real data)'
            when flow_years.source = 'baci'
                then 'CEPII BACI ' || coalesce(baci.release, 'no data') || ' ({{ var("hs_revision") }})'
            when comtrade_years.synthetic_flag = 1
                then 'SYNTHETIC SAMPLE (invented numbers in UN Comtrade format, not real data)'
            else 'UN Comtrade, China-reported (' || comtrade_years.source_revisions || ' converted to {{ var("hs_revision") }})'
        end as {{ dbt.type_string() }}
    ) as data_source,
    cast(
        case flow_years.source
            when 'baci' then 'FOB, reconciled (BACI)'
            else 'imports CIF, exports FOB (China-reported)'
        end as {{ dbt.type_string() }}
    ) as valuation,
    case flow_years.source when 'baci' then baci.synthetic_flag = 1 else comtrade_years.synthetic_flag = 1 end as is_synthetic
from flow_years
cross join baci
left join comtrade_years
    on comtrade_years.year = flow_years.year
    and flow_years.source = 'comtrade'
