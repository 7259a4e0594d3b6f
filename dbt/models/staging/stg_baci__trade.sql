-- BACI flows of the configured HS revision and years, in current USD (BACI's thousands converted once, here).
-- BACI values have three decimals in thousands, i.e. whole dollars: keeping them as integers makes every
-- sum downstream exact, so rebuilds give bit-identical marts whatever order the engine adds rows in.
select
    cast(t as integer) as year,
    i as exporter_code,
    j as importer_code,
    k as hs6,
    cast(round(v * 1000) as bigint) as value_usd,
    q as quantity_tonnes,
    release,
    synthetic as is_synthetic
from {{ source('baci', 'baci_trade') }}
where hs_revision = '{{ var("hs_revision") }}'
  and t between {{ var('first_year') }} and {{ var('last_year') }}
