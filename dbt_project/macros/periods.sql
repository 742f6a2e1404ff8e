{#- Periods of the marts (see METRICS.md): week is the ISO week (Monday
    start; DuckDB's date_trunc('week') is ISO), month, quarter and year are
    calendar periods. Dates in, dates out. -#}

{% macro period_start(grain, date_expression) -%}
    cast({{ dbt.date_trunc(grain, date_expression) }} as date)
{%- endmacro %}

{% macro period_end(grain, start_expression) -%}
    cast({{ dbt.dateadd('day', -1, dbt.dateadd(grain, 1, start_expression)) }} as date)
{%- endmacro %}
