{#- A 64-bit floating-point type. dbt.type_float() is 32-bit on some engines (Spark's float), so the project has
    its own: 'double precision' (ANSI, DuckDB's DOUBLE) by default, 'double' on Spark. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'tradedep')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}
