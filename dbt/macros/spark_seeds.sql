{#- Seeds on Spark. dbt-spark's loader passes each value as a binding that it puts between quotes as it is: a
    quote inside a value (the article's verbatim claims, notes) breaks the statement, and an empty cell becomes the
    text 'None'; and Spark parses a statement of 10,000 rows of values for a minute. In a local session, Spark reads
    the seed's CSV file itself (RFC 4180 quoting, an empty cell null) and casts each column to its type; a cluster,
    which cannot read this machine's files, gets each value as an escaped literal. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {%- do types.append(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {%- if target.name == 'spark' -%}  {#- profiles.yml's local session target -#}
        {%- set csv_view = 'seed_file_' ~ model['alias'] -%}
        {%- do adapter.add_query("create or replace temporary view " ~ csv_view ~ " using csv options (path '"
            ~ model['root_path'] ~ "/" ~ model['original_file_path'] ~ "', header 'true', escape '\"', multiLine 'true')") -%}
        {%- set sql -%}
            insert into {{ this.render() }}
            select {% for col_name in agate_table.column_names -%}
                cast(`{{ col_name }}` as {{ types[loop.index0] }}){%- if not loop.last %}, {% endif -%}
            {%- endfor %}
            from {{ csv_view }}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {{ return(sql) }}
    {%- endif -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    cast({{ spark_seed_literal(value) }} as {{ types[loop.index0] }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%}){%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first %}{% do statements.append(sql) %}{% endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}

{% macro spark_seed_literal(value) -%}
    {%- if value is none -%} null
    {%- elif value is sameas true -%} true
    {%- elif value is sameas false -%} false
    {%- elif value is number -%} {{ value }}
    {%- else -%} '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}
