{#- The pseudonym of a contact detail: HMAC-SHA256, keyed with
    RETENTION_PII_KEY, of the value normalised so that one address always
    gets one pseudonym (`email`: trimmed, lower case; `phone`: digits only).
    The key never appears in SQL: the dbt-duckdb plugin ingestion.pii_dbt_plugin
    puts its HMAC pads into session variables; without them the model stops
    and says why. See ingestion/pii.py. -#}
{% macro pii_hash(column, normalise) -%}
    {%- set normalised = {
        'email': "lower(trim(" ~ column ~ "))",
        'phone': "regexp_replace(" ~ column ~ ", '[^0-9]', '', 'g')",
    }[normalise] -%}
    case when nullif({{ normalised }}, '') is null then null
         else {{ adapter.dispatch('hmac_sha256', 'retention')(normalised) }}
    end
{%- endmacro %}

{#- The missing key is tested on its own first: inside `NULL || ...` DuckDB
    folds an error() away, and every pseudonym would silently be NULL. -#}
{% macro duckdb__hmac_sha256(expression) -%}
    case
        when getvariable('retention_pii_opad') is null or getvariable('retention_pii_ipad') is null
            then error('no PII key: set RETENTION_PII_KEY (it reaches dbt as DBT_ENV_SECRET_RETENTION_PII_KEY)')
        else sha256(
            getvariable('retention_pii_opad')
            || unhex(sha256(getvariable('retention_pii_ipad') || encode({{ expression }})))
        )
    end
{%- endmacro %}

{% macro default__hmac_sha256(expression) -%}
    {{ exceptions.raise_compiler_error("pii_hash: no keyed hash for adapter " ~ adapter.type() ~ " yet") }}
{%- endmacro %}
