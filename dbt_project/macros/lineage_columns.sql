{#-
    The lineage columns every raw row carries (see ingestion/raw/tables.py),
    as a select-list fragment. Staging keeps _source, _source_file and
    _row_number so any staged row can be traced back to its file and line;
    _loaded_at is only needed inside the model to pick the latest load.
-#}
{% macro lineage_columns(relation=none, with_loaded_at=true) -%}
    {%- set columns = ['_source', '_source_file', '_row_number'] + (['_loaded_at'] if with_loaded_at else []) -%}
    {%- set prefix = (relation ~ '.') if relation else '' -%}
    {%- for column in columns %}{{ prefix ~ column }}{{ ',\n        ' if not loop.last }}{% endfor -%}
{%- endmacro %}
