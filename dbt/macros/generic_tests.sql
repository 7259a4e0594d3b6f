{#- Generic tests kept in the project: the dbt package hub is out of reach here. -#}

{#- Rows where the column is outside [min_value, max_value] (nulls pass: test them with not_null). -#}
{% test between(model, column_name, min_value=none, max_value=none) %}
select {{ column_name }} as value
from {{ model }}
where {{ column_name }} is not null
  and (
    false
    {% if min_value is not none %} or {{ column_name }} < {{ min_value }} {% endif %}
    {% if max_value is not none %} or {{ column_name }} > {{ max_value }} {% endif %}
  )
{% endtest %}

{#- Combinations of the columns that occur more than once. -#}
{% test unique_combination(model, combination) %}
select {{ combination | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ combination | join(', ') }}
having count(*) > 1
{% endtest %}

{#- Rows where any of the columns is null: a model's not-null columns in one query (a not_null test per column would
    be a query each, and on Spark a job each: a third of the project's tests). -#}
{% test not_null_columns(model, columns) %}
select *
from {{ model }}
where {% for column in columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}
