-- One row per order placed on or before T, every status, guest orders included
-- (is_guest), with net revenue in the reporting currency.
-- A view: int_orders already holds the computed rows, and copying ten million
-- of them into a second table would only cost time.
{{ config(materialized='view') }}

select
    cast(order_id as varchar) as order_id,
    cast(customer_id as varchar) as customer_id,
    cast(ordered_at as timestamp) as ordered_at,
    order_date,
    {{ period_start('week', 'order_date') }} as order_week,
    {{ period_start('month', 'order_date') }} as order_month,
    cast(order_status as varchar) as order_status,
    cast(source_status as varchar) as source_status,
    is_completed,
    is_guest,
    cast(sales_channel as varchar) as sales_channel,
    cast(reporting_currency as varchar) as currency,
    cast(source_currency as varchar) as source_currency,
    cast(line_count as integer) as line_count,
    cast(items_quantity as decimal(18, 3)) as items_quantity,
    gross_amount,
    line_discount,
    order_discount,
    net_revenue
from {{ ref('int_orders') }}
