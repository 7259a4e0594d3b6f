-- Every HS6 code China reported to UN Comtrade, per frequency and year, and what it became in the build's revision
-- (int_hs_conversion): the build code, how exact the conversion is ('1:1'; 'n:1', codes merged, exact; 'split',
-- the code's content belongs to several build codes and all of it goes to one: approximate), and the records and
-- values converted. A code that cannot be converted (null hs6) is counted here and left out of the marts. Nothing is
-- converted silently: the marts' rows from Comtrade say how much of their value came through a split
-- (fct_product_dependency.imports_via_split_conversion_share).
with records as (
    select
        freq_code,
        year,
        source_revision,
        source_hs6,
        hs6,
        conversion_relationship,
        flow_code,
        value_usd,
        is_synthetic
    from {{ ref('int_comtrade_china_flows') }}
)

select
    cast(freq_code as {{ dbt.type_string() }}) as freq_code,
    cast(year as integer) as year,
    cast(source_revision as {{ dbt.type_string() }}) as source_revision,
    cast(source_hs6 as {{ dbt.type_string() }}) as source_hs6,
    cast('{{ var("hs_revision") }}' as {{ dbt.type_string() }}) as hs_revision,
    cast(hs6 as {{ dbt.type_string() }}) as hs6,
    cast(coalesce(conversion_relationship, 'not convertible') as {{ dbt.type_string() }}) as conversion_relationship,
    hs6 is not null as is_converted,
    cast(count(*) as integer) as record_count,
    cast(sum(case when flow_code = 'M' then value_usd else 0 end) as {{ type_double() }}) as imports_usd,
    cast(sum(case when flow_code = 'X' then value_usd else 0 end) as {{ type_double() }}) as exports_usd,
    max(case when is_synthetic then 1 else 0 end) = 1 as is_synthetic
from records
group by freq_code, year, source_revision, source_hs6, hs6, conversion_relationship
