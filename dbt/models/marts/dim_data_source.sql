-- Which sources this warehouse was built from: one row per source, with what was loaded from it and what the marts
-- take from it: the years of the marts by year (BACI's, then China's reports to Comtrade for the years after BACI's
-- last), the overlap year both cover (fct_source_overlap) and the months of the provisional monthly view.
with loaded as (
    select 'baci' as source, count(*) as row_count, min(year) as first_year, max(year) as last_year,
           max(case when is_synthetic then 1 else 0 end) as synthetic_flag
    from {{ ref('stg_baci__trade') }}
    union all
    select 'comtrade', count(*), min(year), max(year), max(case when is_synthetic then 1 else 0 end)
    from {{ ref('stg_comtrade__flows') }}
    union all
    select 'oecd_tiva', count(*), min(year), max(year), max(case when is_synthetic then 1 else 0 end)
    from {{ ref('stg_oecd_tiva__industry') }}
    union all
    select 'worldbank', count(*), min(year), max(year), max(case when is_synthetic then 1 else 0 end)
    from {{ ref('stg_worldbank__indicators') }}
),

described as (
    select 'baci' as source, 'CEPII BACI' as source_name,
           'Bilateral trade, HS6, reconciled, FOB; the backbone of every trade figure' as role
    union all
    select 'comtrade', 'UN Comtrade API v1', 'China-reported imports and exports for the years and months BACI lacks, and partners'' mirror reports'
    union all
    select 'oecd_tiva', 'OECD TiVA (2023 edition)', 'Gross output, imports and exports by ISIC Rev.4 industry'
    union all
    select 'worldbank', 'World Bank WDI API v2', 'Value added, GDP and high-tech exports for context'
),

in_marts as (
    select source, min(year) as mart_first_year, max(year) as mart_last_year, count(*) as mart_year_count
    from {{ ref('int_year_source') }}
    group by source
),

overlap as (
    select 'comtrade' as source, max(year) as overlap_year from {{ ref('fct_source_overlap') }}
),

months as (
    select
        'comtrade' as source,
        min(window_start_month) as first_month,
        max(window_end_month) as last_month
    from {{ ref('fct_sector_trailing_twelve_months') }}
)

select
    cast(described.source as {{ dbt.type_string() }}) as source,
    cast(described.source_name as {{ dbt.type_string() }}) as source_name,
    cast(described.role as {{ dbt.type_string() }}) as role,
    described.source in ({% for name in var('sources') %}'{{ name }}'{% if not loop.last %}, {% endif %}{% endfor %}) as is_enabled,
    cast(loaded.row_count as bigint) as row_count,
    cast(loaded.first_year as integer) as first_year,
    cast(loaded.last_year as integer) as last_year,
    cast(in_marts.mart_first_year as integer) as mart_first_year,
    cast(in_marts.mart_last_year as integer) as mart_last_year,
    cast(coalesce(in_marts.mart_year_count, 0) as integer) as mart_year_count,
    cast(overlap.overlap_year as integer) as overlap_year,
    months.first_month,
    months.last_month,
    coalesce(loaded.synthetic_flag, 0) = 1 as is_synthetic
from described
inner join loaded
    on loaded.source = described.source
left join in_marts
    on in_marts.source = described.source
left join overlap
    on overlap.source = described.source
left join months
    on months.source = described.source
