{#- SQL `true` or `false`: the value of `condition`, SQL that does not depend on the row (a watermark
    missing, a log entry present, a setting moved), computed by a query of its own just before the
    statement that uses it runs (models and hooks are rendered then, in the statement's transaction).
    Written into a filter as SQL, `x in (...) or <condition>` keeps the engine from reading only the
    row groups that can hold x: a day of changed keys then reads all ten million rows of a table.
    Outside execution (parsing) it stays SQL, which names the same relations. -#}
{% macro evaluate_once(condition) -%}
    {%- if execute -%}
        {%- set result = run_query('select case when ' ~ condition ~ ' then 1 else 0 end as holds') -%}
        {{- 'true' if result.columns[0].values()[0] == 1 else 'false' -}}
    {%- else -%}
        ({{ condition }})
    {%- endif -%}
{%- endmacro %}
