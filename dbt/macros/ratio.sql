{#- numerator / denominator as a double, null unless the denominator is positive (no division errors,
    no meaningless ratios over zero or negative totals). -#}
{% macro ratio(numerator, denominator) -%}
    cast(
        case when {{ denominator }} > 0
            then cast({{ numerator }} as {{ type_double() }}) / cast({{ denominator }} as {{ type_double() }})
        end as {{ type_double() }}
    )
{%- endmacro %}
