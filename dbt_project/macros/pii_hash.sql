{#- Salted hash of a contact detail (email, phone), normalised first so the
    same address always gets the same hash. The salt comes from the
    environment (RETENTION_PII_SALT); set your own in production. -#}
{% macro pii_hash(column) -%}
    {%- set salt = env_var('RETENTION_PII_SALT', 'retention-default-salt') -%}
    case when nullif(trim({{ column }}), '') is null then null
         else {{ adapter.dispatch('salted_sha256', 'retention')("'" ~ salt ~ "' || lower(trim(" ~ column ~ "))") }}
    end
{%- endmacro %}

{% macro duckdb__salted_sha256(expression) -%}
    sha256({{ expression }})
{%- endmacro %}

{% macro default__salted_sha256(expression) -%}
    {{ dbt.hash(expression) }}
{%- endmacro %}
