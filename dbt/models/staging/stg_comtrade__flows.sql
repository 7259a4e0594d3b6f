-- UN Comtrade records at HS6, annual (freq_code A) and monthly (M), without the breakdowns that would double
-- count totals (second partner, mode of transport, customs procedure). Values in current USD; primary_value_usd
-- is CIF for imports and FOB for exports, as reported.
select
    freq_code,
    cast(ref_year as integer) as year,
    cast(ref_month as integer) as month,
    reporter_code,
    partner_code,
    flow_code,
    cmd_code as hs6,
    classification_code,
    case classification_code
        when 'H0' then 'HS92'
        when 'H1' then 'HS96'
        when 'H2' then 'HS02'
        when 'H3' then 'HS07'
        when 'H4' then 'HS12'
        when 'H5' then 'HS17'
        when 'H6' then 'HS22'
    end as hs_revision,
    cif_value as cif_value_usd,
    fob_value as fob_value_usd,
    primary_value as primary_value_usd,
    qty as quantity,
    net_wgt as net_weight_kg,
    synthetic as is_synthetic
from {{ source('comtrade', 'comtrade_flows') }}
where coalesce(partner2_code, 0) = 0
  and coalesce(mot_code, 0) = 0
  and coalesce(customs_code, 'C00') = 'C00'
  and length(cmd_code) = 6
  and flow_code in ('M', 'X')
  and {{ 'comtrade' in var('sources') }}  -- a source switched off in TRADEDEP_SOURCES contributes nothing
