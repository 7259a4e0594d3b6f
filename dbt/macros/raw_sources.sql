{#- Run before every build (on-run-start): make the raw tables readable where the models run.
    DuckDB: nothing to do, the raw assets load them into the warehouse's raw schema.
    Spark: the raw assets also write each raw table as Parquet (partitioned by year where it has one) under the
    raw_parquet var's location (a local folder, or object storage on a cluster): each becomes a view
    raw.<table> over its folder, so the sources read the files as they are now. -#}
{% macro register_raw_tables() -%}
    {{ return(adapter.dispatch('register_raw_tables', 'tradedep')()) }}
{%- endmacro %}

{% macro default__register_raw_tables() -%}
{%- endmacro %}

{% macro spark__register_raw_tables() -%}
    {%- if execute -%}
        {%- set schemas = [] -%}
        {%- for source in graph.sources.values() -%}
            {%- if source.schema not in schemas -%}
                {%- do run_query('create schema if not exists ' ~ source.schema) -%}
                {%- do schemas.append(source.schema) -%}
            {%- endif -%}
            {%- do run_query('create or replace view ' ~ source.schema ~ '.' ~ source.identifier
                             ~ ' as select * from parquet.`' ~ var('raw_parquet') ~ '/' ~ source.identifier ~ '`') -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
