{#- A raw text column converted to its contract type (vars source_contract
    and source_types in dbt_project.yml, the one definition the raw rules
    derive from too): trimmed text (empty = null), a timestamp in the
    reporting time zone, or a number cast exactly as the raw rules checked
    it, so every value that reaches staging converts without loss. -#}
{% macro contract_value(entity, column, relation=none) -%}
    {%- set spec = var('source_contract')[entity]['columns'][column] -%}
    {%- set kind = var('source_types')[spec['type']] -%}
    {%- set name = (relation ~ '.' ~ column) if relation else column -%}
    {%- if kind['kind'] == 'timestamp' -%}
        {{ to_reporting_time(name) }}
    {%- elif kind['kind'] == 'text' -%}
        nullif(trim({{ name }}), '')
    {%- else -%}
        {{ dbt.safe_cast('trim(' ~ name ~ ')', contract_sql_type(kind)) }}
    {%- endif -%}
{%- endmacro %}

{#- The SQL type of a contract type. -#}
{% macro contract_sql_type(kind) -%}
    {%- if kind['kind'] == 'decimal' -%}
        decimal({{ kind['precision'] }}, {{ kind['scale'] }})
    {%- elif kind['kind'] == 'integer' -%}
        {{ dbt.type_int() }}
    {%- else -%}
        {{ dbt.type_string() }}
    {%- endif -%}
{%- endmacro %}
