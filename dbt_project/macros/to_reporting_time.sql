{#- Source timestamp text -> timestamp (no zone) in the reporting time zone.
    Text that names its zone after the time of day (var source_zone_pattern:
    2024-03-01T12:00:00Z, ...+08:00, ... Asia/Shanghai) is taken as it says;
    other text (2024-03-01, 2024-03-01 12:00) is read in var('source_time_zone').
    The raw rules parse the same way (quality/rules/raw.py, timestamp_instant),
    so text they let through is read here as they read it. -#}
{% macro to_reporting_time(column) -%}
    {{ return(adapter.dispatch('to_reporting_time', 'retention')(column)) }}
{%- endmacro %}

{% macro duckdb__to_reporting_time(column) -%}
    timezone(
        '{{ var("reporting_time_zone") }}',
        case
            when regexp_matches(trim({{ column }}), '{{ var("source_zone_pattern") }}')
                then try_cast(regexp_replace(trim({{ column }}), '{{ var("source_offset_gap") }}', '\1') as timestamptz)
            else timezone('{{ var("source_time_zone") }}', try_cast(trim({{ column }}) as timestamp))
        end
    )
{%- endmacro %}

{% macro default__to_reporting_time(column) -%}
    cast({{ column }} as {{ dbt.type_timestamp() }})
{%- endmacro %}
