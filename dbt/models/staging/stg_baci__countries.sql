select
    country_code,
    country_name,
    country_iso2,
    country_iso3
from {{ source('baci', 'baci_countries') }}
