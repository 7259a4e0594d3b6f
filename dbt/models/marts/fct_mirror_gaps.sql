-- Mirror gaps: what China reports importing from a partner country versus what that partner reports
-- exporting to China, per HS6 product and year (UN Comtrade, both sides as reported). China's imports
-- are valued CIF and the partner's exports FOB, so China's figure is normally a few percent higher
-- (freight and insurance); larger gaps are findings (misreporting, transit via third countries such
-- as Hong Kong, timing, confidentiality, classification). Products reported by one side only are
-- kept (full outer join): the missing side is null, not 0. Codes are each reporter's own HS
-- revision; they compare like with like only when same_hs_revision is true.
with china_reported as (
    select year, partner_code, hs6, hs_revision, primary_value_usd, is_synthetic
    from {{ ref('stg_comtrade__flows') }}
    where freq_code = 'A'
      and reporter_code = {{ var('china_code') }}
      and flow_code = 'M'
      and partner_code <> 0  -- the world total has no mirror
),

partner_reported as (
    select year, reporter_code as partner_code, hs6, hs_revision, primary_value_usd, is_synthetic
    from {{ ref('stg_comtrade__flows') }}
    where freq_code = 'A'
      and partner_code = {{ var('china_code') }}
      and flow_code = 'X'
      and reporter_code <> {{ var('china_code') }}
      and reporter_code <> 0
),

pairs as (
    select
        coalesce(china_reported.hs6, partner_reported.hs6) as hs6,
        coalesce(china_reported.partner_code, partner_reported.partner_code) as partner_code,
        coalesce(china_reported.year, partner_reported.year) as year,
        china_reported.primary_value_usd as china_value_usd,
        partner_reported.primary_value_usd as partner_value_usd,
        china_reported.hs_revision as china_hs_revision,
        partner_reported.hs_revision as partner_hs_revision,
        china_reported.hs6 is not null as china_has_record,
        partner_reported.hs6 is not null as partner_has_record,
        case when china_reported.is_synthetic or partner_reported.is_synthetic then 1 else 0 end as synthetic_flag
    from china_reported
    full outer join partner_reported
        on partner_reported.hs6 = china_reported.hs6
        and partner_reported.partner_code = china_reported.partner_code
        and partner_reported.year = china_reported.year
),

-- The groups that list the country as a member (World, whose empty code stands for every exporter,
-- never does), sorted and joined with '; '; null when the country is in no such group.
partner_groups as (
    select
        country_code,
        {{ dbt.listagg('partner_group', "'; '", 'order by partner_group') }} as partner_group,
        min(country_name) as country_name
    from {{ ref('partner_group') }}
    where country_code is not null
    group by country_code
)

select
    cast(pairs.hs6 as {{ dbt.type_string() }}) as hs6,
    cast(pairs.partner_code as integer) as partner_code,
    cast(partner_groups.country_name as {{ dbt.type_string() }}) as partner_name,
    cast(partner_groups.partner_group as {{ dbt.type_string() }}) as partner_group,
    cast(pairs.year as integer) as year,
    cast(pairs.china_value_usd as {{ type_double() }}) as china_reported_imports_usd,
    cast(pairs.partner_value_usd as {{ type_double() }}) as partner_reported_exports_usd,
    cast(pairs.china_value_usd - pairs.partner_value_usd as {{ type_double() }}) as gap_usd,
    {{ ratio('pairs.china_value_usd', 'pairs.partner_value_usd') }} as gap_ratio,
    cast(pairs.china_hs_revision as {{ dbt.type_string() }}) as china_hs_revision,
    cast(pairs.partner_hs_revision as {{ dbt.type_string() }}) as partner_hs_revision,
    case
        when pairs.china_hs_revision is null or pairs.partner_hs_revision is null then cast(null as boolean)
        when pairs.china_hs_revision = pairs.partner_hs_revision then true
        else false
    end as same_hs_revision,
    cast(
        case
            when pairs.china_has_record and pairs.partner_has_record then 'both'
            when pairs.china_has_record then 'China only'
            else 'partner only'
        end as {{ dbt.type_string() }}
    ) as reported_by,
    pairs.synthetic_flag = 1 as is_synthetic,
    cast(
        case when pairs.synthetic_flag = 1
            then 'SYNTHETIC SAMPLE (invented numbers in UN Comtrade format, not real data)'
            else 'UN Comtrade (China-reported imports; partner-reported exports)'
        end as {{ dbt.type_string() }}
    ) as data_source
from pairs
left join partner_groups
    on partner_groups.country_code = pairs.partner_code
