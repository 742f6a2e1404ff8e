-- One row per order (the latest load wins), typed, with the source status
-- normalised through the order_status_map seed (unknown -> pending).
with source as (

    {{ accepted_rows('orders', 'orders') }}

),

status_map as (

    select source_status, status from {{ ref('order_status_map') }}

),

typed as (

    select
        trim(source.order_id) as order_id,
        trim(source.customer_id) as customer_id,
        {{ to_reporting_time('source.ordered_at') }} as ordered_at,
        nullif(trim(source.status), '') as source_status,
        coalesce(status_map.status, 'pending') as order_status,
        upper(trim(source.currency)) as currency,
        coalesce({{ dbt.safe_cast('source.order_discount', 'decimal(18, 2)') }}, 0) as order_discount,
        {{ dbt.safe_cast('source.order_total', 'decimal(18, 2)') }} as order_total,
        nullif(lower(trim(source.sales_channel)), '') as sales_channel,
        {{ lineage_columns('source') }}
    from source
    left join status_map
        on lower(trim(source.status)) = status_map.source_status

),

latest as (

    {{ latest_row('select * from typed', ['order_id'], '_loaded_at desc, _row_number desc') }}

)

select
    order_id,
    customer_id,
    ordered_at,
    source_status,
    order_status,
    currency,
    order_discount,
    order_total,
    sales_channel,
    {{ lineage_columns(with_loaded_at=false) }}
from latest
