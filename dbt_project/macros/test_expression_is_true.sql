{#- Generic test: `expression` (SQL over the model's columns) holds on every row; returns the rows
    where it does not. Declared on a column, the column's name is not needed: the expression names it. -#}
{% test expression_is_true(model, expression, column_name=none) %}
    select *
    from {{ model }}
    where not coalesce({{ expression }}, false)
{% endtest %}
