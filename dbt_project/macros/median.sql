{#- The median of `expression` over a group (nulls skipped; the mean of the two middle values
    of an even count), an aggregate. Engines name it differently, hence a dispatched macro. -#}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'retention')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    median({{ expression }})
{%- endmacro %}

{#- DuckDB's median() aggregate fed by a window sorted per customer (int_customer_orders) took
    30 s at a million customers where collecting each group's values into a list and taking that
    list's median takes under one (the same function, the same result). -#}
{% macro duckdb__median(expression) -%}
    list_aggregate(list({{ expression }}) filter (where {{ expression }} is not null), 'median')
{%- endmacro %}
