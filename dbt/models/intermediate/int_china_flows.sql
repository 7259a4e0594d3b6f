-- The splice: China's trade per year, product and partner from one source per year. BACI for every year of the
-- build; then, when var splice_comtrade is set (the build runs to the BACI release's last year and Comtrade is on),
-- China's annual reports to UN Comtrade for the years after BACI's last (var last_year). Every mart by year reads
-- this, so its rows run from the first BACI year to the last year China has reported.
select *
from {{ ref('int_china_flows_by_source') }}
where source = 'baci'
{% if var('splice_comtrade', false) %}
   or (source = 'comtrade' and year > {{ var('last_year') }})
{% endif %}
