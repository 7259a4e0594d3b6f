-- China's three largest suppliers of each HS6 product per year, with their shares of China's imports, from the
-- spliced flows (int_china_flows). Ties are broken by the lower country code, so the ranking is stable.
with imports_by_supplier as (
    select year, hs6, partner_code as exporter_code, sum(value_usd) as value_usd
    from {{ ref('int_china_flows') }}
    where flow_code = 'M'
    group by year, hs6, partner_code
),

ranked as (
    select
        year,
        hs6,
        exporter_code,
        cast(value_usd as {{ type_double() }})
        / cast(sum(value_usd) over (partition by year, hs6) as {{ type_double() }}) as import_share,
        row_number() over (partition by year, hs6 order by value_usd desc, exporter_code) as supplier_rank
    from imports_by_supplier
)

select
    year,
    hs6,
    max(case when supplier_rank = 1 then exporter_code end) as supplier_1_code,
    max(case when supplier_rank = 1 then import_share end) as supplier_1_share,
    max(case when supplier_rank = 2 then exporter_code end) as supplier_2_code,
    max(case when supplier_rank = 2 then import_share end) as supplier_2_share,
    max(case when supplier_rank = 3 then exporter_code end) as supplier_3_code,
    max(case when supplier_rank = 3 then import_share end) as supplier_3_share
from ranked
where supplier_rank <= 3
group by year, hs6
