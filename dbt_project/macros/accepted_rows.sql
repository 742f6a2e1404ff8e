{#- The rows of a raw source table that are not in quarantine (matched on
    _load_id and _row_number): what every staging model starts from, so that
    each raw row ends in staging or in quarantine, never in both. -#}
{% macro accepted_rows(source_name, table_name) -%}
    select received.*
    from {{ source(source_name, table_name) }} as received
    where not exists (
        select 1
        from {{ source('quarantine', table_name) }} as rejected
        where rejected._load_id = received._load_id
            and rejected._row_number = received._row_number
    )
{%- endmacro %}
