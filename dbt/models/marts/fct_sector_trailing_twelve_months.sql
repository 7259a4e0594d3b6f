-- The latest months, provisional: China's own monthly reports to UN Comtrade (imports CIF) summed over trailing
-- twelve-month windows, per sector (headline full basket) and partner group, for every month that ends a window of
-- twelve months with data. Codes are converted to the build's revision. The world total is China's reported World
-- record (the monthly requests ask the partner groups' members and the world, not every partner); a group whose
-- members were not all asked would be undercounted. Monthly figures are revised for months after they appear: the
-- rows say provisional, and a full year's annual figures replace them in fct_sector_dependency.
with monthly as (
    select
        year,
        month,
        year * 12 + month - 1 as month_index,
        partner_code,
        hs6,
        value_usd,
        is_synthetic
    from {{ ref('int_comtrade_china_flows') }}
    where freq_code = 'M'
      and flow_code = 'M'
      and hs6 is not null
),

months as (
    select distinct month_index, year, month from monthly
),

window_ends as (
    select window_end.month_index, max(window_end.year) as year, max(window_end.month) as month, count(*) as months_observed
    from months as window_end
    inner join months as window_month
        on window_month.month_index between window_end.month_index - 11 and window_end.month_index
    group by window_end.month_index
    having count(*) = 12
),

basket as (
    select distinct sector, hs6 from {{ ref('int_sector_basket_products') }} where basket = 'full'
),

partner_groups as (
    select partner_group, country_code from {{ ref('partner_group') }}
),

-- The world is China's reported World record (partner 0); the other groups sum their members' records.
by_group as (
    select
        basket.sector,
        partner_groups.partner_group,
        window_ends.month_index,
        sum(monthly.value_usd) as imports_usd
    from window_ends
    inner join monthly
        on monthly.month_index between window_ends.month_index - 11 and window_ends.month_index
    inner join basket
        on basket.hs6 = monthly.hs6
    inner join partner_groups
        on partner_groups.country_code = monthly.partner_code
        or (partner_groups.country_code is null and monthly.partner_code = 0)
    group by basket.sector, partner_groups.partner_group, window_ends.month_index
),

world as (
    select sector, month_index, imports_usd as imports_world_usd
    from by_group
    inner join (select distinct partner_group from partner_groups where country_code is null) as all_partners
        on all_partners.partner_group = by_group.partner_group
),

grid as (
    select sectors.sector, groups.partner_group, window_ends.*
    from window_ends
    cross join (select distinct sector from basket) as sectors
    cross join (select distinct partner_group from partner_groups) as groups
),

synthetic as (
    select max(case when is_synthetic then 1 else 0 end) = 1 as is_synthetic from monthly
)

select
    cast(grid.sector as {{ dbt.type_string() }}) as sector,
    cast(grid.partner_group as {{ dbt.type_string() }}) as partner_group,
    {{ month_start('grid.year', 'grid.month') }} as window_end_month,
    {{ month_start('floor((grid.month_index - 11) / 12.0)', 'grid.month_index - 11 - 12 * floor((grid.month_index - 11) / 12.0) + 1') }}
        as window_start_month,
    cast(grid.months_observed as integer) as months_observed,
    cast('{{ var("hs_revision") }}' as {{ dbt.type_string() }}) as hs_revision,
    cast(coalesce(by_group.imports_usd, 0) as {{ type_double() }}) as imports_from_partner_usd,
    cast(world.imports_world_usd as {{ type_double() }}) as imports_from_world_usd,
    {{ ratio('coalesce(by_group.imports_usd, 0)', 'world.imports_world_usd') }} as partner_import_share,
    cast('provisional' as {{ dbt.type_string() }}) as status,
    cast('imports CIF (China-reported, monthly)' as {{ dbt.type_string() }}) as valuation,
    synthetic.is_synthetic,
    cast(
        case when synthetic.is_synthetic
            then 'SYNTHETIC SAMPLE (invented numbers in UN Comtrade format, not real data)'
            else 'UN Comtrade monthly, China-reported (converted to {{ var("hs_revision") }})'
        end as {{ dbt.type_string() }}
    ) as data_source
from grid
cross join synthetic
left join by_group
    on by_group.sector = grid.sector
    and by_group.partner_group = grid.partner_group
    and by_group.month_index = grid.month_index
left join world
    on world.sector = grid.sector
    and world.month_index = grid.month_index
