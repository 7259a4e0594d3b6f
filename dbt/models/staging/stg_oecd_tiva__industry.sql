-- OECD TiVA measures by ISIC Rev.4 industry in current USD: PROD gross output, IMGR gross imports,
-- EXGR gross exports; area W is the world.
select
    cast(year as integer) as year,
    measure,
    ref_area,
    activity as isic_activity,
    counterpart_area,
    value_usd,
    synthetic as is_synthetic
from {{ source('oecd_tiva', 'oecd_tiva') }}
where {{ 'oecd_tiva' in var('sources') }}  -- a source switched off in TRADEDEP_SOURCES contributes nothing
