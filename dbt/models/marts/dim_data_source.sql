-- Which sources this warehouse was built from: one row per source, with what was loaded from it.
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
    select 'comtrade', 'UN Comtrade API v1', 'China-reported imports and exports, and partners'' mirror reports, for years BACI lacks'
    union all
    select 'oecd_tiva', 'OECD TiVA (2023 edition)', 'Gross output, imports and exports by ISIC Rev.4 industry'
    union all
    select 'worldbank', 'World Bank WDI API v2', 'Value added, GDP and high-tech exports for context'
)

select
    cast(described.source as varchar) as source,
    cast(described.source_name as varchar) as source_name,
    cast(described.role as varchar) as role,
    described.source in ({% for name in var('sources') %}'{{ name }}'{% if not loop.last %}, {% endif %}{% endfor %}) as is_enabled,
    cast(loaded.row_count as bigint) as row_count,
    cast(loaded.first_year as integer) as first_year,
    cast(loaded.last_year as integer) as last_year,
    coalesce(loaded.synthetic_flag, 0) = 1 as is_synthetic
from described
inner join loaded
    on loaded.source = described.source
