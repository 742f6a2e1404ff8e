{#- Incremental staging. The staging models are incremental: a run redoes
    only the entity keys that the change log (raw._changed_keys, written by
    the quarantine update, ingestion/raw/changes.py) names after the batch the
    model last consumed (raw._consumed_changes). For each such key the model
    deletes its rows (pre-hook) and inserts the latest accepted version again
    from all current raw rows of that key (macro accepted_rows), so a key
    whose rows left raw or entered quarantine is gone, and the table equals a
    rebuild. A NULL key in the log (a first load, a rule change, a forgotten
    file), a model with no watermark, or --full-refresh redoes every key.
    The entity is the model's name after "__" (stg_<source>__<entity>); its
    key is the first key column of the source contract (an order line's
    changes are logged under its order). A model keyed otherwise (the order
    amounts, which change with an order and with its lines) names its
    entities and key column in the macros' arguments. -#}

{% macro change_entity() -%}
    {{- return(model.name.split('__')[-1]) -}}
{%- endmacro %}

{#- SQL: the last change batch this model consumed (null: none recorded). -#}
{% macro consumed_change_seq() -%}
    (select max(change_seq) from {{ source('change_log', 'consumed_changes') }}
     where model = '{{ this.identifier }}')
{%- endmacro %}

{#- SQL: true when `key_expression` (text, trimmed, empty = null) names a key
    changed since this model's watermark, or when every key changed; `entities`
    (default: this model's entity) are the entities whose changes count. -#}
{% macro is_changed_key(key_expression, entities=none) -%}
    {%- set changes = source('change_log', 'changed_keys') -%}
    {%- set entity_list = quoted_list(entities or [change_entity()]) -%}
    (
        {{ evaluate_once(every_key_changed(entities)) }}
        or {{ key_expression }} in (select key_value from {{ changes }}
                                    where entity in ({{ entity_list }}) and change_seq > {{ consumed_change_seq() }})
    )
{%- endmacro %}

{#- SQL: true when every key changed since this model's watermark (or it has none). -#}
{% macro every_key_changed(entities=none) -%}
    {%- set since = consumed_change_seq() -%}
    (
        {{ since }} is null
        or exists (select 1 from {{ source('change_log', 'changed_keys') }}
                   where entity in ({{ quoted_list(entities or [change_entity()]) }})
                   and key_value is null and change_seq > {{ since }})
    )
{%- endmacro %}

{#- The key column of this model's entity in the source contract. -#}
{% macro change_key_column() -%}
    {{- return(var('source_contract')[change_entity()]['key'][0]) -}}
{%- endmacro %}

{#- Pre-hook: remove the rows of every changed key (an incremental run only); `also` is SQL
    for further rows to redo (e.g. every row, when something all rows depend on moved). -#}
{% macro forget_changed_keys(entities=none, key_column=none, also='false') -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ is_changed_key(key_column or change_key_column(), entities) }} or {{ also }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: record the latest change batch as consumed by this model. A model reading
    other incremental models (`applied_by`: their names) consumes at most what each of them
    has consumed (nothing while one of them has consumed nothing): a batch they had not
    applied when it read them is read again next time. -#}
{% macro record_consumed_changes(applied_by=[]) -%}
    {%- set consumed = source('change_log', 'consumed_changes') -%}
    delete from {{ consumed }} where model = '{{ this.identifier }}';
    insert into {{ consumed }}
    select '{{ this.identifier }}', coalesce(max(change_seq), 0)
    from (
        select change_seq from {{ source('change_log', 'changed_keys') }}
        union all
        select change_seq from {{ consumed }}
    ) as batches
    {%- for model in applied_by %}
    {{ 'where' if loop.first else 'and' }} change_seq <= coalesce(
        (select max(change_seq) from {{ consumed }} where model = '{{ model }}'), 0)
    {%- endfor %}
{%- endmacro %}

{#- SQL: true when the reporting currency (int_reporting_currency) differs from the one the
    amounts already in this model are in, so that every row must be redone (false on a full build). -#}
{% macro reporting_currency_moved() -%}
    {%- if is_incremental() -%}
        {{ evaluate_once("(select reporting_currency from " ~ ref('int_reporting_currency') ~ ")"
                         ~ " is distinct from (select max(reporting_currency) from " ~ this ~ ")") }}
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}
