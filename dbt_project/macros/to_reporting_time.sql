{#- Source timestamp text -> timestamp (no zone) in the reporting time zone.
    Text with an offset (2024-03-01T12:00:00Z, ...+08:00) is taken as it says;
    text without one is read in var('source_time_zone'). Unparseable text
    gives null, for the quality gates to report. -#}
{% macro to_reporting_time(column) -%}
    {{ return(adapter.dispatch('to_reporting_time', 'retention')(column)) }}
{%- endmacro %}

{% macro duckdb__to_reporting_time(column) -%}
    timezone(
        '{{ var("reporting_time_zone") }}',
        case
            when regexp_matches(trim({{ column }}), '(Z|[+-]\d\d(:?\d\d)?)$')
                then try_cast(trim({{ column }}) as timestamptz)
            else timezone('{{ var("source_time_zone") }}', try_cast(trim({{ column }}) as timestamp))
        end
    )
{%- endmacro %}

{% macro default__to_reporting_time(column) -%}
    cast({{ column }} as {{ dbt.type_timestamp() }})
{%- endmacro %}
