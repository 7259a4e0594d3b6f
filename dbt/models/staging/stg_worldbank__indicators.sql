-- World Bank WDI indicators for CHN, USA and EUU; null values (not yet published) are kept out.
select
    cast(year as integer) as year,
    indicator_id,
    indicator_name,
    country_iso3,
    country_name,
    value,
    synthetic as is_synthetic
from {{ source('worldbank', 'worldbank_indicators') }}
where value is not null
  and {{ 'worldbank' in var('sources') }}  -- a source switched off in TRADEDEP_SOURCES contributes nothing
