{#- numerator / denominator as a double, null unless the denominator is positive (no division errors,
    no meaningless ratios over zero or negative totals). -#}
{% macro ratio(numerator, denominator) -%}
    cast(
        case when {{ denominator }} > 0
            then cast({{ numerator }} as double precision) / cast({{ denominator }} as double precision)
        end as double precision
    )
{%- endmacro %}
