{#- Generic test: no two rows share the same values in `columns`
    (what dbt_utils.unique_combination_of_columns does; the dbt hub is not
    reachable here, so the project carries its own). -#}
{% test unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as duplicate_rows
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
