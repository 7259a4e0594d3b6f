-- BACI countries with their EU27 and China flags and the partner groups that list them as members.
-- Lists are sorted and separated by '; ' (names can contain commas).
with countries as (
    select country_code, country_name, country_iso2, country_iso3
    from {{ ref('stg_baci__countries') }}
),

memberships as (
    select distinct partner_group, country_code
    from {{ ref('partner_group') }}
    where country_code is not null
),

groups_per_country as (
    select
        country_code,
        {{ dbt.listagg('partner_group', "'; '", 'order by partner_group') }} as partner_groups,
        max(case when partner_group = 'EU27' then 1 else 0 end) as eu27_flag
    from memberships
    group by country_code
)

select
    cast(countries.country_code as integer) as country_code,
    cast(countries.country_name as {{ dbt.type_string() }}) as country_name,
    cast(nullif(countries.country_iso2, '') as {{ dbt.type_string() }}) as iso2,
    cast(nullif(countries.country_iso3, '') as {{ dbt.type_string() }}) as iso3,
    coalesce(groups_per_country.eu27_flag, 0) = 1 as is_eu27,
    countries.country_code = {{ var('china_code', 156) }} as is_china,
    cast(groups_per_country.partner_groups as {{ dbt.type_string() }}) as partner_groups
from countries
left join groups_per_country
    on groups_per_country.country_code = countries.country_code
