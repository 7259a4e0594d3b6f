-- Who supplies China in each sector: imports per sector (headline 'full' basket), supplier country and year,
-- the supplier's share of the sector's imports and its rank that year, and the change of that share since
-- the baseline window (int_trend_windows; the baseline share is the mean over the window's years, a year
-- without imports from the supplier counting as 0). Only suppliers with imports that year have a row.
with basket_products as (
    select distinct sector, hs6
    from {{ ref('int_sector_basket_products') }}
    where basket = 'full'
),

china_imports as (
    select year, hs6, partner_code as exporter_code, value_usd
    from {{ ref('int_china_flows') }}
    where flow_code = 'M'
),

sector_supplier_year as (
    select
        basket_products.sector,
        china_imports.year,
        china_imports.exporter_code as supplier_code,
        sum(china_imports.value_usd) as imports_usd
    from basket_products
    inner join china_imports
        on china_imports.hs6 = basket_products.hs6
    group by basket_products.sector, china_imports.year, china_imports.exporter_code
),

shares as (
    select
        sector,
        year,
        supplier_code,
        imports_usd,
        cast(imports_usd as {{ type_double() }})
            / cast(sum(imports_usd) over (partition by sector, year) as {{ type_double() }}) as import_share,
        row_number() over (partition by sector, year order by imports_usd desc, supplier_code) as supplier_rank
    from sector_supplier_year
),

baseline_years as (
    select year from {{ ref('int_trend_windows') }} where window_name = 'baseline'
),

baseline as (
    select
        shares.sector,
        shares.supplier_code,
        sum(shares.import_share) / max(bounds.baseline_years_observed) as baseline_import_share
    from shares
    inner join baseline_years
        on baseline_years.year = shares.year
    cross join {{ ref('int_trend_window_bounds') }} as bounds
    group by shares.sector, shares.supplier_code
),

countries as (
    select country_code, country_name, partner_groups from {{ ref('dim_country') }}
),

year_source as (
    select year, is_synthetic, data_source from {{ ref('int_year_source') }}
)

select
    cast(shares.sector as {{ dbt.type_string() }}) as sector,
    cast(shares.supplier_code as integer) as supplier_code,
    cast(shares.year as integer) as year,
    {{ year_start('shares.year') }} as year_start,
    cast(countries.country_name as {{ dbt.type_string() }}) as supplier_name,
    cast(countries.partner_groups as {{ dbt.type_string() }}) as supplier_partner_groups,
    cast('{{ var("hs_revision") }}' as {{ dbt.type_string() }}) as hs_revision,
    cast(shares.imports_usd as {{ type_double() }}) as imports_usd,
    cast(shares.import_share as {{ type_double() }}) as import_share,
    cast(shares.supplier_rank as integer) as supplier_rank,
    cast(coalesce(baseline.baseline_import_share, 0) as {{ type_double() }}) as baseline_import_share,
    cast((shares.import_share - coalesce(baseline.baseline_import_share, 0)) * 100 as {{ type_double() }})
        as share_change_since_baseline_pp,
    year_source.is_synthetic,
    cast(year_source.data_source as {{ dbt.type_string() }}) as data_source
from shares
left join year_source
    on year_source.year = shares.year
left join baseline
    on baseline.sector = shares.sector
    and baseline.supplier_code = shares.supplier_code
left join countries
    on countries.country_code = shares.supplier_code
