-- China's import dependency per sector, basket, partner group and year (importer China = BACI code 156).
-- A sector's figures sum imports and exports over the products of its basket (int_sector_basket_products:
-- 'full' headline basket, 'comparable' one-to-one across HS revisions, 'broad' with broad proxies); the
-- supplier HHI is the import-weighted mean of the product HHIs; the dependent-product counts and shares use
-- the persistent flag of fct_product_dependency (null while the persistence window is incomplete). Unit
-- values divide the value of the flows that carry a quantity by their tonnes. Import penetration comes
-- from OECD TiVA for the ISIC industries the sector maps to (whole industries, to TiVA's last year). Years after
-- BACI's last come from China's reports to UN Comtrade (int_china_flows; data_source and valuation say so). A
-- product in two sectors counts in both, so sector rows do not add up to a total. Sums are exact (integer
-- dollars, fixed-point weights), so rebuilding gives identical numbers.
with basket_products as (
    select distinct sector, basket, hs6 from {{ ref('int_sector_basket_products') }}
),

products as (
    select * from {{ ref('fct_product_dependency') }}
),

totals as (
    select * from {{ ref('int_china_product_totals') }}
),

imports_by_partner as (
    select year, hs6, partner_group, imports_usd
    from {{ ref('int_china_product_imports_by_partner') }}
),

partner_groups as (
    select distinct partner_group from {{ ref('partner_group') }}
),

build_years as (
    select distinct year, window_years_observed from products
),

sector_year as (
    select
        basket_products.sector,
        basket_products.basket,
        build_years.year,
        build_years.window_years_observed,
        count(distinct basket_products.hs6) as basket_product_count,
        sum(coalesce(totals.imports_world_usd, 0)) as imports_world_usd,
        sum(coalesce(totals.exports_world_usd, 0)) as exports_world_usd,
        sum(cast(totals.imports_world_usd * totals.supplier_hhi as decimal(38, 6))) as weighted_hhi_sum,
        sum(case when totals.supplier_hhi is not null then totals.imports_world_usd end) as hhi_weight,
        sum(cast(totals.imports_tonnes as decimal(38, 3))) as imports_tonnes,
        sum(coalesce(totals.imports_with_quantity_usd, 0)) as imports_with_quantity_usd,
        sum(cast(totals.exports_tonnes as decimal(38, 3))) as exports_tonnes,
        sum(coalesce(totals.exports_with_quantity_usd, 0)) as exports_with_quantity_usd
    from basket_products
    cross join build_years
    left join totals
        on totals.hs6 = basket_products.hs6
        and totals.year = build_years.year
    group by basket_products.sector, basket_products.basket, build_years.year, build_years.window_years_observed
),

sector_partner_year as (
    select
        basket_products.sector,
        basket_products.basket,
        imports_by_partner.year,
        imports_by_partner.partner_group,
        sum(imports_by_partner.imports_usd) as imports_partner_usd
    from basket_products
    inner join imports_by_partner
        on imports_by_partner.hs6 = basket_products.hs6
    group by basket_products.sector, basket_products.basket, imports_by_partner.year, imports_by_partner.partner_group
),

product_flags as (
    select
        basket_products.sector,
        basket_products.basket,
        products.year,
        sum(case when products.is_dependent then 1 else 0 end) as screened_dependent_product_count,
        sum(case when products.is_persistent_dependency then 1 else 0 end) as dependent_product_count,
        sum(case when products.is_chokepoint then 1 else 0 end) as chokepoint_product_count,
        sum(case when products.is_persistent_dependency then products.imports_from_world_usd else 0 end) as dependent_imports_usd,
        sum(case when products.is_chokepoint then products.imports_from_world_usd else 0 end) as chokepoint_imports_usd
    from basket_products
    inner join products
        on products.hs6 = basket_products.hs6
    group by basket_products.sector, basket_products.basket, products.year
),

-- TiVA's import penetration of the sector's industries together: sum of M over sum of Q + M - X, only in
-- years with data for every linked industry.
industry_links as (
    select sector, isic_activity from {{ ref('sector_isic_map') }}
),

industry_activities as (
    select sector, {{ dbt.listagg('isic_activity', "'; '", 'order by isic_activity') }} as isic_activities,
           count(*) as industry_count
    from industry_links
    group by sector
),

industry_year as (
    select
        industry_links.sector,
        penetration.year,
        count(*) as industries_with_data,
        sum(penetration.gross_imports_usd) as industry_imports_usd,
        sum(penetration.apparent_consumption_usd) as industry_consumption_usd
    from industry_links
    inner join {{ ref('fct_industry_import_penetration') }} as penetration
        on penetration.isic_activity = industry_links.isic_activity
        and penetration.partner = 'World'
        and penetration.apparent_consumption_usd is not null
        and penetration.gross_imports_usd is not null
    group by industry_links.sector, penetration.year
),

year_source as (
    select year, is_synthetic, data_source, valuation from {{ ref('int_year_source') }}
)

select
    cast(sector_year.sector as {{ dbt.type_string() }}) as sector,
    cast(sector_year.basket as {{ dbt.type_string() }}) as basket,
    cast(partner_groups.partner_group as {{ dbt.type_string() }}) as partner_group,
    cast(sector_year.year as integer) as year,
    {{ year_start('sector_year.year') }} as year_start,
    cast('{{ var("hs_revision") }}' as {{ dbt.type_string() }}) as hs_revision,
    cast(coalesce(sector_partner_year.imports_partner_usd, 0) as {{ type_double() }}) as imports_from_partner_usd,
    cast(sector_year.imports_world_usd as {{ type_double() }}) as imports_from_world_usd,
    {{ ratio('coalesce(sector_partner_year.imports_partner_usd, 0)', 'sector_year.imports_world_usd') }} as partner_import_share,
    cast(sector_year.exports_world_usd as {{ type_double() }}) as exports_to_world_usd,
    {{ ratio('sector_year.imports_world_usd', 'sector_year.exports_world_usd') }} as net_import_ratio,
    sector_year.exports_world_usd = 0 as has_no_exports,
    {{ ratio('sector_year.exports_world_usd - sector_year.imports_world_usd', 'sector_year.exports_world_usd + sector_year.imports_world_usd') }} as normalised_trade_balance,
    {{ ratio('sector_year.weighted_hhi_sum', 'sector_year.hhi_weight') }} as supplier_hhi,
    cast(sector_year.basket_product_count as integer) as basket_product_count,
    cast(coalesce(product_flags.screened_dependent_product_count, 0) as integer) as screened_dependent_product_count,
    cast(sector_year.window_years_observed as integer) as window_years_observed,
    {% for count, share, imports in [('dependent_product_count', 'dependent_import_share', 'dependent_imports_usd'),
                                      ('chokepoint_product_count', 'chokepoint_import_share', 'chokepoint_imports_usd')] %}
    case when sector_year.window_years_observed >= {{ var('persistent_window_years') }}
        then cast(coalesce(product_flags.{{ count }}, 0) as integer) end as {{ count }},
    case when sector_year.window_years_observed >= {{ var('persistent_window_years') }}
        then {{ ratio('coalesce(product_flags.' ~ imports ~ ', 0)', 'sector_year.imports_world_usd') }} end as {{ share }},
    {% endfor %}
    cast(sector_year.imports_tonnes as {{ type_double() }}) as imports_tonnes,
    {{ ratio('sector_year.imports_with_quantity_usd', 'sector_year.imports_tonnes') }} as import_unit_value_usd_per_tonne,
    cast(sector_year.exports_tonnes as {{ type_double() }}) as exports_tonnes,
    {{ ratio('sector_year.exports_with_quantity_usd', 'sector_year.exports_tonnes') }} as export_unit_value_usd_per_tonne,
    cast(industry_activities.isic_activities as {{ dbt.type_string() }}) as industry_isic_activities,
    case when industry_year.industries_with_data = industry_activities.industry_count
        then {{ ratio('industry_year.industry_imports_usd', 'industry_year.industry_consumption_usd') }} end as industry_import_penetration,
    year_source.is_synthetic,
    cast(year_source.data_source as {{ dbt.type_string() }}) as data_source,
    cast(year_source.valuation as {{ dbt.type_string() }}) as valuation
from sector_year
cross join partner_groups
left join year_source
    on year_source.year = sector_year.year
left join sector_partner_year
    on sector_partner_year.sector = sector_year.sector
    and sector_partner_year.basket = sector_year.basket
    and sector_partner_year.year = sector_year.year
    and sector_partner_year.partner_group = partner_groups.partner_group
left join product_flags
    on product_flags.sector = sector_year.sector
    and product_flags.basket = sector_year.basket
    and product_flags.year = sector_year.year
left join industry_activities
    on industry_activities.sector = sector_year.sector
left join industry_year
    on industry_year.sector = sector_year.sector
    and industry_year.year = sector_year.year
