-- Partner groups of the partner_group seed, with their members. A seed row with an empty country_code
-- stands for every exporter (World). Member names come from BACI's country list where the code is there,
-- else from the seed; lists are sorted and separated by '; ' (names can contain commas).
with seed_rows as (
    select partner_group, country_code, country_name
    from {{ ref('partner_group') }}
),

countries as (
    select country_code, country_name
    from {{ ref('stg_baci__countries') }}
),

members as (
    select
        seed_rows.partner_group,
        seed_rows.country_code,
        coalesce(countries.country_name, seed_rows.country_name) as member_name
    from seed_rows
    left join countries
        on countries.country_code = seed_rows.country_code
)

select
    cast(partner_group as {{ dbt.type_string() }}) as partner_group,
    cast(count(distinct country_code) as integer) as member_count,
    cast({{ dbt.listagg('member_name', "'; '", 'order by member_name') }} as {{ dbt.type_string() }}) as members,
    max(case when country_code is null then 1 else 0 end) = 1 as is_all_partners
from members
group by partner_group
