{#- SQL `true` or `false`: the value of `condition`, SQL that does not depend on the row (a watermark
    missing, a log entry present, a setting moved), computed by a query of its own when the SQL that
    uses it is rendered: a hook just before it runs, in the model's transaction; a model's own SQL
    when the model is compiled, before its pre-hooks run. A model's pre-hooks must therefore not
    change what its conditions read (they delete rows of the model and log keys of other entities).
    Written into a filter as SQL, `x in (...) or <condition>` keeps the engine from reading only the
    row groups that can hold x: a day of changed keys then reads all ten million rows of a table.
    Outside execution (parsing) it stays SQL, which names the same relations. Compiled SQL thus holds
    the values of one run: run by hand (dbt show), it answers for that run. -#}
{% macro evaluate_once(condition) -%}
    {%- if execute -%}
        {%- set result = run_query('select case when ' ~ condition ~ ' then 1 else 0 end as holds') -%}
        {{- 'true' if result.columns[0].values()[0] == 1 else 'false' -}}
    {%- else -%}
        ({{ condition }})
    {%- endif -%}
{%- endmacro %}
