-- The overlap year: the last year that both BACI and China's own reports to UN Comtrade cover (BACI's last year,
-- also asked of Comtrade), per sector (headline full basket) and partner group, with each source's imports and
-- shares side by side. Their ratio shows how much of a change at the splice (BACI up to this year, China's reports
-- after it) is valuation and reconciliation rather than trade: China reports imports CIF (a few per cent above
-- FOB), BACI reconciles both sides' reports at FOB. Comtrade codes are converted to the build's revision.
with flows as (
    select source, year, flow_code, partner_code, hs6, value_usd
    from {{ ref('int_china_flows_by_source') }}
),

overlap as (
    select max(baci.year) as year
    from (select distinct year from flows where source = 'baci') as baci
    inner join (select distinct year from flows where source = 'comtrade') as comtrade
        on comtrade.year = baci.year
),

basket as (
    select distinct sector, hs6 from {{ ref('int_sector_basket_products') }} where basket = 'full'
),

overlap_flows as (
    select basket.sector, flows.source, flows.flow_code, flows.partner_code, flows.value_usd, overlap.year
    from flows
    inner join overlap on overlap.year = flows.year
    inner join basket on basket.hs6 = flows.hs6
),

partner_groups as (
    select partner_group, country_code from {{ ref('partner_group') }}
),

by_group as (
    select
        overlap_flows.sector,
        partner_groups.partner_group,
        sum(case when overlap_flows.source = 'baci' then overlap_flows.value_usd else 0 end) as baci_imports_usd,
        sum(case when overlap_flows.source = 'comtrade' then overlap_flows.value_usd else 0 end) as comtrade_imports_usd
    from overlap_flows
    inner join partner_groups
        on partner_groups.country_code = overlap_flows.partner_code
        or partner_groups.country_code is null
    where overlap_flows.flow_code = 'M'
    group by overlap_flows.sector, partner_groups.partner_group
),

sector_totals as (
    select
        sector,
        max(year) as year,
        sum(case when source = 'baci' and flow_code = 'M' then value_usd else 0 end) as baci_imports_world_usd,
        sum(case when source = 'comtrade' and flow_code = 'M' then value_usd else 0 end) as comtrade_imports_world_usd,
        sum(case when source = 'baci' and flow_code = 'X' then value_usd else 0 end) as baci_exports_usd,
        sum(case when source = 'comtrade' and flow_code = 'X' then value_usd else 0 end) as comtrade_exports_usd
    from overlap_flows
    group by sector
),

grid as (
    select sector_totals.*, groups.partner_group
    from sector_totals
    cross join (select distinct partner_group from partner_groups) as groups
),

build_source as (
    select is_synthetic from {{ ref('int_build_source') }}
)

select
    cast(grid.sector as {{ dbt.type_string() }}) as sector,
    cast(grid.partner_group as {{ dbt.type_string() }}) as partner_group,
    cast(grid.year as integer) as year,
    cast('{{ var("hs_revision") }}' as {{ dbt.type_string() }}) as hs_revision,
    cast(coalesce(by_group.baci_imports_usd, 0) as {{ type_double() }}) as baci_imports_usd,
    cast(coalesce(by_group.comtrade_imports_usd, 0) as {{ type_double() }}) as comtrade_imports_usd,
    {{ ratio('coalesce(by_group.comtrade_imports_usd, 0)', 'coalesce(by_group.baci_imports_usd, 0)') }} as comtrade_to_baci_ratio,
    {{ ratio('coalesce(by_group.baci_imports_usd, 0)', 'grid.baci_imports_world_usd') }} as baci_import_share,
    {{ ratio('coalesce(by_group.comtrade_imports_usd, 0)', 'grid.comtrade_imports_world_usd') }} as comtrade_import_share,
    cast(
        ({{ ratio('coalesce(by_group.comtrade_imports_usd, 0)', 'grid.comtrade_imports_world_usd') }}
         - {{ ratio('coalesce(by_group.baci_imports_usd, 0)', 'grid.baci_imports_world_usd') }}) * 100 as {{ type_double() }}
    ) as share_difference_pp,
    cast(grid.baci_exports_usd as {{ type_double() }}) as baci_exports_usd,
    cast(grid.comtrade_exports_usd as {{ type_double() }}) as comtrade_exports_usd,
    {{ ratio('grid.comtrade_exports_usd', 'grid.baci_exports_usd') }} as exports_comtrade_to_baci_ratio,
    build_source.is_synthetic
from grid
cross join build_source
left join by_group
    on by_group.sector = grid.sector
    and by_group.partner_group = grid.partner_group
