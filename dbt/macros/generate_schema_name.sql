{#- Use the layer's schema name as is (staging, intermediate, marts, seeds), not target_layer. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
