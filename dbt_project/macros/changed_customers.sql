{#- Incremental customer-level models. A customer's rows in these models
    (int_customer_activity_by_period, int_customer_orders) depend only on that
    customer's completed orders on or before T and on where the period spine
    starts. A run therefore redoes (deletes in a pre-hook, inserts again) the
    customers that
    - int_order_amounts redid an order of, before or after the change (an
      order that moved to another customer changes both): its hooks log them
      in the change log as entity `order_customers`;
    - have a completed order dated between the T the table was built for and
      today's T (T moving forwards brings orders in, backwards takes them
      out): raw._built_bounds keeps the T of the last build;
    and every customer when the spine's first week or month moved (the first
    order of all changed, which shifts every period index; only for models
    whose rows depend on it), when the change log says every
    customer changed (a full build of int_order_amounts, a new reporting
    currency), or when the model has no watermark yet. The result equals a
    rebuild: every row of a customer is a function of exactly those inputs. -#}

{#- SQL: append the distinct non-null keys `keys_sql` yields (one column), and a NULL key
    ("every key") when `every` is SQL that is true, to the change log as one batch of `entity`. -#}
{% macro log_changed_keys(entity, keys_sql, every='false') -%}
    {%- set changes = source('change_log', 'changed_keys') -%}
    {%- set consumed = source('change_log', 'consumed_changes') -%}
    insert into {{ changes }}
    select
        (select greatest(
            (select coalesce(max(change_seq), 0) from {{ changes }}),
            (select coalesce(max(change_seq), 0) from {{ consumed }})) + 1),
        '{{ entity }}',
        key_value
    from (
        select distinct cast(changed.key_value as {{ dbt.type_string() }}) as key_value
        from ({{ keys_sql }}) as changed (key_value)
        where changed.key_value is not null
        union all
        select null where {{ every }}
    ) as logged
{%- endmacro %}

{#- Hooks of an order-level incremental model (int_order_amounts): log the customers of the
    orders it redoes as they were (pre-hook, before the delete) and as they are (post-hook,
    before its watermark moves). The orders redone are those `entities` changed, and all when
    `also` (SQL) is true; then, and on a full build, the log says "every customer". -#}
{% macro log_order_customers(entities, also='false', after=false) -%}
    {%- if is_incremental() -%}
        {%- set every = evaluate_once(every_key_changed(entities) ~ ' or ' ~ also) -%}
        {{ log_changed_keys('order_customers', 'select customer_id from ' ~ this ~ ' where '
                            ~ is_changed_key('order_id', entities) ~ ' and not (' ~ every ~ ')', every) }}
    {%- elif after -%}
        {{ log_changed_keys('order_customers', 'select null', 'true') }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- SQL: the first week and month of the period spine (first_week, first_month), one row. -#}
{% macro period_origins() -%}
    select
        max(case when grain = 'week' then period_start end) as first_week,
        max(case when grain = 'month' then period_start end) as first_month
    from {{ ref('int_period_spine') }}
    where period_index = 0
{%- endmacro %}

{#- SQL: true when every customer must be redone (see above): the change log says so, or the
    model has no bounds yet, or (`origins`) the period spine's first week or month moved. -#}
{% macro every_customer_changed(origins=true) -%}
    {%- set built = built_bounds_of_this() -%}
    {{ every_key_changed(['order_customers']) }}
    or not exists (select 1 from {{ built }} as built
                   {%- if origins %}
                   cross join ({{ period_origins() }}) as origins
                   where built.first_week = origins.first_week and built.first_month = origins.first_month
                   {%- endif %})
{%- endmacro %}

{#- SQL: the row of raw._built_bounds for this model (none before its first build). -#}
{% macro built_bounds_of_this() -%}
    {{- return("(select * from " ~ source('change_log', 'built_bounds') ~ " where model = '"
               ~ this.identifier ~ "')") -}}
{%- endmacro %}

{#- The temporary relation of the customers this run of the model redoes, one column customer_id
    (empty when every customer is redone): made by the first pre-hook, read by the delete and by
    the model's filter. Kept as a subquery of the filter, its size unknown, the set made DuckDB
    build its join on all ten million orders instead of on these few thousand customers (2.5 s a
    model at a million customers, for a day of new orders). The model's compiled SQL reads it, so
    it runs only after that pre-hook (not by hand with dbt show). -#}
{% macro redo_customers() -%}
    {{- return(api.Relation.create(identifier=this.identifier ~ '__redo_customers', type='table')) -}}
{%- endmacro %}

{#- First pre-hook of a customer-level incremental model: the customers it redoes (see above). -#}
{% macro collect_redo_customers(origins=true) -%}
    {%- if is_incremental() -%}
        {%- set customers -%}
            select distinct customer_id
            from (
                select key_value as customer_id from {{ source('change_log', 'changed_keys') }}
                where entity = 'order_customers' and change_seq > {{ consumed_change_seq() }}
                union all
                select orders.customer_id
                from {{ ref('int_order_amounts') }} as orders
                cross join {{ ref('int_as_of_date') }} as as_of
                cross join {{ built_bounds_of_this() }} as built
                where orders.is_completed and not orders.is_guest
                    and orders.order_date > least(as_of.as_of_date, built.as_of_date)
                    and orders.order_date <= greatest(as_of.as_of_date, built.as_of_date)
            ) as redo
            where customer_id is not null and not {{ evaluate_once(every_customer_changed(origins)) }}
        {%- endset -%}
        {{ create_table_as(true, redo_customers(), customers) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- SQL: true when `customer_expression` names a customer whose rows this run redoes (an
    incremental run only, after the pre-hook collect_redo_customers). -#}
{% macro is_changed_customer(customer_expression, origins=true) -%}
    (
        {{ evaluate_once(every_customer_changed(origins)) }}
        or {{ customer_expression }} in (select customer_id from {{ redo_customers() }})
    )
{%- endmacro %}

{#- Second pre-hook of a customer-level incremental model: remove the rows of the customers it redoes. -#}
{% macro forget_changed_customers(origins=true) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ is_changed_customer('customer_id', origins) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: record the T and period origins this model's rows are now built for. -#}
{% macro record_built_bounds() -%}
    {%- set bounds = source('change_log', 'built_bounds') -%}
    delete from {{ bounds }} where model = '{{ this.identifier }}';
    insert into {{ bounds }}
    select '{{ this.identifier }}', as_of.as_of_date, origins.first_week, origins.first_month
    from {{ ref('int_as_of_date') }} as as_of
    cross join ({{ period_origins() }}) as origins
{%- endmacro %}

{#- The configuration of a customer-level incremental model (see the top of this file): call it
    first in the model; `origins`: whether its rows depend on where the period spine starts. The
    change log, the bounds and what the filter reads are named on every parse, so that dbt knows the
    dependencies also when the filter is not rendered. -#}
{% macro customer_incremental_config(origins=true) -%}
    {{- config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ collect_redo_customers(" ~ origins ~ ") }}", "{{ forget_changed_customers(" ~ origins ~ ") }}"],
        post_hook=["{{ record_consumed_changes() }}", "{{ record_built_bounds() }}"],
    ) -}}
    {%- do source('change_log', 'changed_keys') -%}
    {%- do source('change_log', 'consumed_changes') -%}
    {%- do source('change_log', 'built_bounds') -%}
    {%- do ref('int_order_amounts') -%}
    {%- do ref('int_as_of_date') -%}
    {%- do ref('int_period_spine') -%}
{%- endmacro %}
