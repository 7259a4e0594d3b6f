-- China's import dependency per sector, partner group and year (importer China = BACI code 156).
-- Sector figures sum imports and exports over the sector's HS6 products; the supplier HHI is the
-- import-weighted mean of the product HHIs. A product in two sectors counts in both, so sector
-- totals are not additive across sectors. Sums are exact (integer dollars; HHI weights in fixed point),
-- so rebuilding gives identical numbers.
with sector_products as (
    select sector, hs6 from {{ ref('int_sector_products') }}
),

product_totals as (
    select year, hs6, imports_world_usd, exports_world_usd, supplier_hhi
    from {{ ref('int_china_product_totals') }}
),

imports_by_partner as (
    select year, hs6, partner_group, imports_usd
    from {{ ref('int_china_product_imports_by_partner') }}
),

partner_groups as (
    select distinct partner_group from {{ ref('partner_group') }}
),

years as (
    select distinct year from product_totals
),

sector_year as (
    select
        sector_products.sector,
        years.year,
        count(distinct sector_products.hs6) as mapped_product_count,
        sum(coalesce(product_totals.imports_world_usd, 0)) as imports_world_usd,
        sum(coalesce(product_totals.exports_world_usd, 0)) as exports_world_usd,
        sum(cast(product_totals.imports_world_usd * product_totals.supplier_hhi as decimal(38, 6))) as weighted_hhi_sum,
        sum(case when product_totals.supplier_hhi is not null then product_totals.imports_world_usd end) as hhi_weight
    from sector_products
    cross join years
    left join product_totals
        on product_totals.hs6 = sector_products.hs6
        and product_totals.year = years.year
    group by sector_products.sector, years.year
),

sector_partner_year as (
    select
        sector_products.sector,
        imports_by_partner.year,
        imports_by_partner.partner_group,
        sum(imports_by_partner.imports_usd) as imports_partner_usd
    from sector_products
    inner join imports_by_partner
        on imports_by_partner.hs6 = sector_products.hs6
    group by sector_products.sector, imports_by_partner.year, imports_by_partner.partner_group
),

product_flags as (
    select
        sector_products.sector,
        products.year,
        sum(case when products.is_dependent then 1 else 0 end) as dependent_product_count,
        sum(case when products.is_chokepoint then 1 else 0 end) as chokepoint_product_count,
        sum(case when products.is_dependent then products.imports_from_world_usd else 0 end) as dependent_imports_usd,
        sum(case when products.is_chokepoint then products.imports_from_world_usd else 0 end) as chokepoint_imports_usd
    from sector_products
    inner join {{ ref('fct_product_dependency') }} as products
        on products.hs6 = sector_products.hs6
    group by sector_products.sector, products.year
),

build_source as (
    select is_synthetic, data_source from {{ ref('int_build_source') }}
)

select
    cast(sector_year.sector as varchar) as sector,
    cast(partner_groups.partner_group as varchar) as partner_group,
    cast(sector_year.year as integer) as year,
    cast('{{ var("hs_revision") }}' as varchar) as hs_revision,
    cast(coalesce(sector_partner_year.imports_partner_usd, 0) as double precision) as imports_from_partner_usd,
    cast(sector_year.imports_world_usd as double precision) as imports_from_world_usd,
    {{ ratio('coalesce(sector_partner_year.imports_partner_usd, 0)', 'sector_year.imports_world_usd') }} as partner_import_share,
    cast(sector_year.exports_world_usd as double precision) as exports_to_world_usd,
    {{ ratio('sector_year.imports_world_usd', 'sector_year.exports_world_usd') }} as net_import_ratio,
    sector_year.exports_world_usd = 0 as has_no_exports,
    {{ ratio('sector_year.weighted_hhi_sum', 'sector_year.hhi_weight') }} as supplier_hhi,
    cast(sector_year.mapped_product_count as integer) as mapped_product_count,
    {{ ratio('sector_year.exports_world_usd - sector_year.imports_world_usd', 'sector_year.exports_world_usd + sector_year.imports_world_usd') }} as normalised_trade_balance,
    cast(coalesce(product_flags.dependent_product_count, 0) as integer) as dependent_product_count,
    cast(coalesce(product_flags.chokepoint_product_count, 0) as integer) as chokepoint_product_count,
    {{ ratio('coalesce(product_flags.dependent_imports_usd, 0)', 'sector_year.imports_world_usd') }} as dependent_import_share,
    {{ ratio('coalesce(product_flags.chokepoint_imports_usd, 0)', 'sector_year.imports_world_usd') }} as chokepoint_import_share,
    build_source.is_synthetic,
    cast(build_source.data_source as varchar) as data_source
from sector_year
cross join partner_groups
cross join build_source
left join sector_partner_year
    on sector_partner_year.sector = sector_year.sector
    and sector_partner_year.year = sector_year.year
    and sector_partner_year.partner_group = partner_groups.partner_group
left join product_flags
    on product_flags.sector = sector_year.sector
    and product_flags.year = sector_year.year
