{#- The first day of a calendar year as a date: a real date column for BI tools that want a time axis. -#}
{% macro year_start(year_column) -%}
    {{ return(adapter.dispatch('year_start', 'tradedep')(year_column)) }}
{%- endmacro %}

{% macro default__year_start(year_column) -%}
    make_date(cast({{ year_column }} as integer), 1, 1)
{%- endmacro %}

{#- The first day of a month as a date. -#}
{% macro month_start(year_column, month_column) -%}
    {{ return(adapter.dispatch('month_start', 'tradedep')(year_column, month_column)) }}
{%- endmacro %}

{% macro default__month_start(year_column, month_column) -%}
    make_date(cast({{ year_column }} as integer), cast({{ month_column }} as integer), 1)
{%- endmacro %}
