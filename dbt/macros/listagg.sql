{#- dbt.listagg on Spark, ordered. dbt-spark's own spark__listagg ignores the order by clause (with a warning), so
    the project's lists (e.g. dim_sector.subsectors) would come in whatever order the executors gathered them.
    Here each value is collected with its sort key and the array is sorted before it is joined. The order by clause
    is one expression, ascending, as the models use it. Like string_agg elsewhere, null values are skipped and a
    group with none gives null (array_join of an empty array would give ''). -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- set order_by = (order_by_clause or '') | trim -%}
    {%- if order_by | lower | truncate(8, true, '') == 'order by' -%}
        {%- set order_by = order_by[8:] | trim -%}
    {%- endif -%}
    {%- if ',' in order_by or ' desc' in (order_by | lower) or ' asc' in (order_by | lower) -%}
        {{ exceptions.raise_compiler_error("spark__listagg: order by one expression, ascending (got '" ~ order_by_clause ~ "')") }}
    {%- endif -%}
    {%- set sort_key = order_by if order_by else measure -%}
    {%- set collected -%}
        transform(
            array_sort(collect_list(case when ({{ measure }}) is not null
                then named_struct('sort_key', {{ sort_key }}, 'value', {{ measure }}) end)),
            item -> item.value)
    {%- endset -%}
    {%- if limit_num -%}
        {%- set collected = 'slice(' ~ collected ~ ', 1, ' ~ limit_num ~ ')' -%}
    {%- endif -%}
    case when count({{ measure }}) > 0 then array_join({{ collected }}, {{ delimiter_text }}) end
{%- endmacro %}
