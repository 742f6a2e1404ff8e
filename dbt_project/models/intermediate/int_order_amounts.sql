-- One row per order, whenever placed, with its lines summed, its amounts in
-- the reporting currency and its net revenue (METRICS.md):
-- sum of quantity * unit_price - line_discount over the lines, minus the
-- order discount; the order total where the source has no lines. An order
-- without a customer id is a guest order (METRICS.md): kept here and in the
-- revenue totals, flagged is_guest, and left out of every customer-level model.
-- Incremental: a run redoes the orders whose own rows or lines the change log
-- names (macros/changed_keys.sql), and every order when the reporting currency
-- the amounts are in has moved; int_orders (a view) keeps those up to T. Its hooks
-- log the customers of the orders it redoes, for the customer-level models
-- (macros/changed_customers.sql).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=[
        "{{ log_order_customers(['orders', 'order_items'], reporting_currency_moved()) }}",
        "{{ forget_changed_keys(['orders', 'order_items'], 'order_id', reporting_currency_moved()) }}",
    ],
    post_hook=[
        "{{ log_order_customers(['orders', 'order_items'], after=true) }}",
        "{{ record_consumed_changes(['stg_orders__orders', 'stg_orders__order_items']) }}",
    ],
) }}

{#- Named on every parse, so that dbt knows the dependency also when the filter is not rendered. -#}
{%- do source('change_log', 'changed_keys') -%}
{%- do source('change_log', 'consumed_changes') -%}

with orders as (

    select * from {{ ref('stg_orders__orders') }}
    {%- if is_incremental() %}
    where {{ is_changed_key('order_id', ['orders', 'order_items']) }} or {{ reporting_currency_moved() }}
    {%- endif %}

),

lines as (

    -- Sums stay in 64-bit types: DECIMAL(18, 2) per line, as staging types
    -- them, instead of the DECIMAL(38) / HUGEINT that DuckDB widens sums to,
    -- which are slower to add up and which many BI drivers cannot read.
    select
        order_id,
        cast(count(*) as integer) as line_count,
        cast(sum(quantity) as decimal(18, 3)) as items_quantity,
        cast(sum(cast(quantity * unit_price as decimal(18, 2))) as decimal(18, 2)) as gross_amount,
        cast(sum(line_discount) as decimal(18, 2)) as line_discount
    from {{ ref('stg_orders__order_items') }}
    {%- if is_incremental() %}
    where order_id in (select order_id from orders)
    {%- endif %}
    group by order_id

),

fx_rates as (

    select upper(trim(currency)) as currency, rate_to_reporting
    from {{ ref('fx_rates') }}

),

reporting as (

    select reporting_currency from {{ ref('int_reporting_currency') }}

),

priced as (

    select
        orders.order_id,
        orders.customer_id,
        orders.ordered_at,
        cast(orders.ordered_at as date) as order_date,
        orders.order_status,
        orders.source_status,
        orders.sales_channel,
        orders.customer_id is null as is_guest,
        reporting.reporting_currency,
        -- An order without a currency is taken to be in the reporting currency.
        coalesce(orders.currency, reporting.reporting_currency) as source_currency,
        case
            when orders.currency is null or orders.currency = reporting.reporting_currency then 1
            when fx_rates.rate_to_reporting is null then {{ raise_error(
                "'order ' || orders.order_id || ' is in ' || orders.currency || ' but the reporting currency is '
                || reporting.reporting_currency || ' and seeds/fx_rates.csv has no rate for '
                || orders.currency || ': add a row (currency, rate_to_reporting), or set RETENTION_REPORTING_CURRENCY'"
            ) }}
            else fx_rates.rate_to_reporting
        end as fx_rate,
        coalesce(lines.line_count, 0) as line_count,
        coalesce(lines.items_quantity, 0) as items_quantity,
        lines.gross_amount,
        lines.line_discount,
        orders.order_discount,
        orders.order_total
    from orders
    cross join reporting
    left join lines on orders.order_id = lines.order_id
    left join fx_rates on orders.currency = fx_rates.currency

),

amounts as (

    select
        *,
        coalesce(gross_amount, order_total + order_discount) as gross_amount_or_total,
        case when line_count > 0 then gross_amount - line_discount - order_discount else order_total end
            as net_amount
    from priced

)

select
    order_id,
    customer_id,
    ordered_at,
    order_date,
    order_status,
    source_status,
    order_status = 'completed' as is_completed,
    is_guest,
    sales_channel,
    reporting_currency,
    source_currency,
    line_count,
    items_quantity,
    -- Amounts already in the reporting currency skip the conversion: exact,
    -- and much cheaper than multiplying ten million decimals by a rate.
    {% for amount, expression in [('gross_amount', 'gross_amount_or_total'),
                                  ('line_discount', 'coalesce(line_discount, 0)'),
                                  ('order_discount', 'order_discount'), ('net_revenue', 'net_amount')] %}
    cast(
        case
            when fx_rate = 1 then {{ expression }}
            else cast(round({{ expression }} * fx_rate, 2) as decimal(18, 2))
        end as decimal(18, 2)
    ) as {{ amount }}{{ ',' if not loop.last }}
    {% endfor %}
from amounts
