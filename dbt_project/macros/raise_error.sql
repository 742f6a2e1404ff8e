{#- An SQL expression that stops the query with `message_expression` (an SQL
    string expression, so it can name the offending row). Used inside CASE so
    it fires only for the rows that deserve it. -#}
{% macro raise_error(message_expression) -%}
    {{ return(adapter.dispatch('raise_error', 'retention')(message_expression)) }}
{%- endmacro %}

{% macro duckdb__raise_error(message_expression) -%}
    error({{ message_expression }})
{%- endmacro %}

{% macro default__raise_error(message_expression) -%}
    cast({{ message_expression }} as integer)
{%- endmacro %}
