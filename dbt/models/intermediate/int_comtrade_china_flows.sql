-- China's own reports to UN Comtrade (reporter 156), annual and monthly, with each HS6 code converted from the
-- revision China reported in (classification_code) to the build's revision (int_hs_conversion). A record whose code
-- cannot be converted (an older revision than the build's, or a code outside the UNSD tables) keeps a null hs6: it
-- is counted in fct_revision_conversion and left out of the marts. Values in whole current USD (imports CIF,
-- exports FOB, as China reports them); net weight in tonnes.
with records as (
    select
        freq_code,
        year,
        month,
        flow_code,
        partner_code,
        hs_revision as source_revision,
        hs6 as source_hs6,
        primary_value_usd,
        net_weight_kg,
        is_synthetic
    from {{ ref('stg_comtrade__flows') }}
    where reporter_code = {{ var('china_code') }}
      and primary_value_usd is not null
)

select
    records.freq_code,
    records.year,
    records.month,
    records.flow_code,
    records.partner_code,
    records.source_revision,
    records.source_hs6,
    conversion.hs6,
    conversion.relationship as conversion_relationship,
    cast(round(records.primary_value_usd) as bigint) as value_usd,
    -- In decimals from the start (kilograms have three decimals): the tonnes are rounded from their exact value, the
    -- same on every engine (a double kg / 1000 is rounded from its binary approximation, differently per engine).
    cast(cast(records.net_weight_kg as decimal(38, 3)) * cast(0.001 as decimal(4, 3)) as decimal(38, 3)) as quantity_tonnes,
    records.is_synthetic
from records
left join {{ ref('int_hs_conversion') }} as conversion
    on conversion.source_revision = records.source_revision
    and conversion.source_hs6 = records.source_hs6
