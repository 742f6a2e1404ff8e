{#- The rows of a raw source table that are not in quarantine (matched on
    _load_id and _row_number): what every staging model starts from, so that
    each raw row ends in staging or in quarantine, never in both. In an
    incremental run only the rows of the changed keys (macros/changed_keys.sql):
    all of each such key's rows, so that its latest version is chosen again. -#}
{% macro accepted_rows(source_name, table_name) -%}
    {#- Named on every parse, so that dbt knows the dependency also when the filter is not rendered. -#}
    {%- do source('change_log', 'changed_keys') -%}
    {%- do source('change_log', 'consumed_changes') -%}
    select received.*
    from {{ source(source_name, table_name) }} as received
    where not exists (
        select 1
        from {{ source('quarantine', table_name) }} as rejected
        where rejected._load_id = received._load_id
            and rejected._row_number = received._row_number
    )
    {%- if is_incremental() %}
        {#- _key: the key as stored at load (trimmed, empty = null; ingestion/raw/tables.py), which lets
            DuckDB skip the row groups the changed keys cannot be in. -#}
        and {{ is_changed_key("received._key") }}
    {%- endif %}
{%- endmacro %}
