-- The seed article's claims (sector_claims) tested against the measures, one row per sector of the sector map:
-- on the headline ('full') basket, against the claim partner group (var claim_partner_group, US+EU), over the
-- windows of fct_self_reliance_trend. Each claim becomes a test on the level reached (latest window) and one
-- on the change since the baseline, with the thresholds as dbt vars; the evidence columns are the numbers each
-- test read. A sector the article does not speak about has no claim and no verdict.
-- - high self-sufficiency: level = net exporter (normalised trade balance > 0) and persistent-dependent
--   products at most claim_low_dependent_share of imports; change = partner share down by more than the stable band.
-- - moderate progress: level = dependence still material (net importer, or partner share or persistent-dependent
--   share at least claim_material_share); change = partner share change above the mean change of the high
--   self-sufficiency sectors (a smaller fall) and not a rise beyond the stable band.
-- - upgrading: level = exports at least as valuable per tonne as imports; change = normalised trade balance up by
--   at least claim_upgrading_balance_change.
-- - dependence persists: level = net importer with a partner share at least claim_material_share; change = partner
--   share not down by more than the stable band.
{%- set stable = var('trend_stable_pp') %}
{%- set low = var('claim_low_dependent_share') %}
{%- set material = var('claim_material_share') %}
{%- set upgrading = var('claim_upgrading_balance_change') %}

with sectors as (
    select distinct sector from {{ ref('sector_hs_map') }}
),

claims as (
    select sector, claim_type, claim_quote, quote_is_verbatim, claim_source
    from {{ ref('sector_claims') }}
),

trend as (
    select *
    from {{ ref('fct_self_reliance_trend') }}
    where basket = 'full'
      and partner_group = '{{ var("claim_partner_group") }}'
),

high_group as (
    select avg(trend.partner_import_share_change_pp) as mean_change_pp
    from trend
    inner join claims
        on claims.sector = trend.sector
    where claims.claim_type = 'high self-sufficiency'
),

evidence as (
    select
        sectors.sector,
        claims.claim_type,
        claims.claim_quote,
        claims.quote_is_verbatim,
        claims.claim_source,
        trend.baseline_first_year,
        trend.baseline_last_year,
        trend.latest_first_year,
        trend.latest_last_year,
        trend.partner_import_share_baseline,
        trend.partner_import_share_latest,
        trend.partner_import_share_change_pp,
        high_group.mean_change_pp as high_self_sufficiency_mean_change_pp,
        trend.normalised_trade_balance_latest,
        trend.normalised_trade_balance_change,
        trend.net_import_ratio_latest,
        trend.dependent_import_share_latest,
        trend.import_unit_value_usd_per_tonne_latest,
        trend.export_unit_value_usd_per_tonne_latest,
        trend.basket_meaning_changed
    from sectors
    left join claims
        on claims.sector = sectors.sector
    left join trend
        on trend.sector = sectors.sector
    cross join high_group
),

tested as (
    select
        evidence.*,
        case evidence.claim_type
            when 'high self-sufficiency' then
                'net exporter (normalised trade balance > 0) and persistent-dependent products at most {{ '%g' % (low * 100) }}% of imports'
            when 'moderate progress' then
                'dependence still material: net importer, or partner share or persistent-dependent share at least {{ '%g' % (material * 100) }}%'
            when 'upgrading' then 'exports at least as valuable per tonne as imports (export unit value >= import unit value)'
            when 'dependence persists' then 'net importer with a partner share of at least {{ '%g' % (material * 100) }}%'
        end as level_test,
        case evidence.claim_type
            when 'high self-sufficiency' then
                evidence.normalised_trade_balance_latest > 0 and evidence.dependent_import_share_latest <= {{ low }}
            when 'moderate progress' then
                evidence.normalised_trade_balance_latest < 0
                or evidence.partner_import_share_latest >= {{ material }}
                or evidence.dependent_import_share_latest >= {{ material }}
            when 'upgrading' then
                evidence.export_unit_value_usd_per_tonne_latest >= evidence.import_unit_value_usd_per_tonne_latest
            when 'dependence persists' then
                evidence.normalised_trade_balance_latest < 0 and evidence.partner_import_share_latest >= {{ material }}
        end as level_test_passed,
        case evidence.claim_type
            when 'high self-sufficiency' then 'partner share down by more than {{ stable }} pp'
            when 'moderate progress' then
                'partner share change above the mean of the high self-sufficiency sectors, and not up by more than {{ stable }} pp'
            when 'upgrading' then 'normalised trade balance up by at least {{ upgrading }}'
            when 'dependence persists' then 'partner share not down by more than {{ stable }} pp'
        end as change_test,
        case evidence.claim_type
            when 'high self-sufficiency' then evidence.partner_import_share_change_pp < -{{ stable }}
            when 'moderate progress' then
                evidence.partner_import_share_change_pp > evidence.high_self_sufficiency_mean_change_pp
                and evidence.partner_import_share_change_pp <= {{ stable }}
            when 'upgrading' then evidence.normalised_trade_balance_change >= {{ upgrading }}
            when 'dependence persists' then evidence.partner_import_share_change_pp >= -{{ stable }}
        end as change_test_passed
    from evidence
)

select
    cast(sector as {{ dbt.type_string() }}) as sector,
    claim_type is not null as has_claim,
    cast(claim_type as {{ dbt.type_string() }}) as claim_type,
    cast(coalesce(claim_quote, 'The article does not speak about this sector.') as {{ dbt.type_string() }}) as claim_quote,
    quote_is_verbatim,
    cast(claim_source as {{ dbt.type_string() }}) as claim_source,
    cast('{{ var("claim_partner_group") }}' as {{ dbt.type_string() }}) as partner_group,
    cast('full' as {{ dbt.type_string() }}) as basket,
    cast(baseline_first_year as integer) as baseline_first_year,
    cast(baseline_last_year as integer) as baseline_last_year,
    cast(latest_first_year as integer) as latest_first_year,
    cast(latest_last_year as integer) as latest_last_year,
    cast(partner_import_share_baseline as {{ type_double() }}) as partner_import_share_baseline,
    cast(partner_import_share_latest as {{ type_double() }}) as partner_import_share_latest,
    cast(partner_import_share_change_pp as {{ type_double() }}) as partner_import_share_change_pp,
    cast(high_self_sufficiency_mean_change_pp as {{ type_double() }}) as high_self_sufficiency_mean_change_pp,
    cast(normalised_trade_balance_latest as {{ type_double() }}) as normalised_trade_balance_latest,
    cast(normalised_trade_balance_change as {{ type_double() }}) as normalised_trade_balance_change,
    cast(net_import_ratio_latest as {{ type_double() }}) as net_import_ratio_latest,
    cast(dependent_import_share_latest as {{ type_double() }}) as dependent_import_share_latest,
    cast(import_unit_value_usd_per_tonne_latest as {{ type_double() }}) as import_unit_value_usd_per_tonne_latest,
    cast(export_unit_value_usd_per_tonne_latest as {{ type_double() }}) as export_unit_value_usd_per_tonne_latest,
    cast(level_test as {{ dbt.type_string() }}) as level_test,
    level_test_passed,
    cast(change_test as {{ dbt.type_string() }}) as change_test,
    change_test_passed,
    cast(
        case
            when claim_type is null then 'no claim'
            when level_test_passed is null or change_test_passed is null then 'insufficient data'
            when level_test_passed and change_test_passed then 'consistent'
            when level_test_passed or change_test_passed then 'partly consistent'
            else 'not consistent'
        end as {{ dbt.type_string() }}
    ) as verdict,
    coalesce(basket_meaning_changed, false) as basket_meaning_changed,
    build_source.is_synthetic,
    cast(build_source.data_source as {{ dbt.type_string() }}) as data_source
from tested
cross join (select is_synthetic, data_source from {{ ref('int_build_source') }}) as build_source
