-- Import penetration of China's manufacturing industries (OECD TiVA, ISIC Rev.4), per industry,
-- partner and year: M / (Q + M - X), with Q gross output (PROD), M gross imports (IMGR) and X gross
-- exports (EXGR), all of China (ref_area CHN) with the world as counterpart. The denominator is
-- apparent domestic consumption; where it is not positive the ratios are null and flagged.
-- Partner dependence M[p] / (Q + M - X) needs imports by partner: every IMGR row with a counterpart
-- other than the world becomes a partner row. TiVA partner imports are not loaded yet (README,
-- "TiVA by partner"), so today the mart holds the World rows only.
with china as (
    select year, measure, isic_activity, counterpart_area, value_usd, is_synthetic
    from {{ ref('stg_oecd_tiva__industry') }}
    where ref_area = 'CHN'
      and measure in ('PROD', 'IMGR', 'EXGR')
),

-- Q, M, X per industry and year; a measure with no row stays null (unknown, not 0).
industry_year as (
    select
        isic_activity,
        year,
        sum(case when measure = 'PROD' then value_usd end) as output_usd,
        sum(case when measure = 'IMGR' then value_usd end) as imports_usd,
        sum(case when measure = 'EXGR' then value_usd end) as exports_usd,
        max(case when is_synthetic then 1 else 0 end) as synthetic_flag
    from china
    where counterpart_area = 'W'
    group by isic_activity, year
),

-- M[p]: one row per industry, counterpart and year; the world's row is M itself.
partner_imports as (
    select
        isic_activity,
        year,
        'W' as counterpart_area,
        imports_usd as partner_imports_usd,
        synthetic_flag
    from industry_year

    union all

    select
        isic_activity,
        year,
        counterpart_area,
        sum(value_usd) as partner_imports_usd,
        max(case when is_synthetic then 1 else 0 end) as synthetic_flag
    from china
    where measure = 'IMGR'
      and counterpart_area <> 'W'
    group by isic_activity, year, counterpart_area
),

-- Sectors of the sector_isic_map seed linked to each industry, sorted and joined with '; '.
sector_links as (
    select
        isic_activity,
        {{ dbt.listagg('sector', "'; '", 'order by sector') }} as linked_sectors,
        count(*) as linked_sector_count
    from {{ ref('sector_isic_map') }}
    group by isic_activity
),

measured as (
    select
        partner_imports.isic_activity,
        partner_imports.counterpart_area,
        partner_imports.year,
        industry_year.output_usd,
        industry_year.imports_usd,
        industry_year.exports_usd,
        industry_year.output_usd + industry_year.imports_usd - industry_year.exports_usd as consumption_usd,
        partner_imports.partner_imports_usd,
        case when partner_imports.synthetic_flag = 1 or industry_year.synthetic_flag = 1 then 1 else 0 end as synthetic_flag
    from partner_imports
    left join industry_year
        on industry_year.isic_activity = partner_imports.isic_activity
        and industry_year.year = partner_imports.year
)

select
    cast(measured.isic_activity as {{ dbt.type_string() }}) as isic_activity,
    cast(
        case measured.counterpart_area
            when 'W' then 'World'
            when 'USA' then 'US'
            when 'EU27_2020' then 'EU27'
            else measured.counterpart_area
        end as {{ dbt.type_string() }}
    ) as partner,
    cast(measured.counterpart_area as {{ dbt.type_string() }}) as counterpart_area,
    cast(measured.year as integer) as year,
    cast(sector_links.linked_sectors as {{ dbt.type_string() }}) as linked_sectors,
    cast(coalesce(sector_links.linked_sector_count, 0) as integer) as linked_sector_count,
    cast(measured.output_usd as {{ type_double() }}) as gross_output_usd,
    cast(measured.imports_usd as {{ type_double() }}) as gross_imports_usd,
    cast(measured.exports_usd as {{ type_double() }}) as gross_exports_usd,
    cast(measured.consumption_usd as {{ type_double() }}) as apparent_consumption_usd,
    {{ ratio('measured.imports_usd', 'measured.consumption_usd') }} as import_penetration,
    case
        when measured.consumption_usd is null then cast(null as boolean)
        when measured.consumption_usd <= 0 then true
        else false
    end as has_nonpositive_denominator,
    cast(measured.partner_imports_usd as {{ type_double() }}) as partner_imports_usd,
    {{ ratio('measured.partner_imports_usd', 'measured.consumption_usd') }} as partner_dependence,
    measured.synthetic_flag = 1 as is_synthetic,
    cast(
        case when measured.synthetic_flag = 1
            then 'SYNTHETIC SAMPLE (invented numbers in OECD TiVA format, not real data)'
            else 'OECD TiVA (2023 edition)'
        end as {{ dbt.type_string() }}
    ) as data_source
from measured
left join sector_links
    on sector_links.isic_activity = measured.isic_activity
