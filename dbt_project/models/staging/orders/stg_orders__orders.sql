-- One row per order (the latest load wins), typed, with the source status
-- normalised through its source's own words (sources file), then the
-- order_status_map seed (unknown -> pending). The raw rule status_mapped
-- reads the same two (quality/rules/raw.py, status_is).
with source as (

    {{ accepted_rows('orders', 'orders') }}

),

status_map as (

    select source_status, status from {{ ref('order_status_map') }}

),

source_statuses as (

    select source_file, source_status, status from {{ source('orders', 'source_statuses') }}

),

typed as (

    select
        {{ contract_value('orders', 'order_id', 'source') }} as order_id,
        {{ contract_value('orders', 'customer_id', 'source') }} as customer_id,
        {{ contract_value('orders', 'ordered_at', 'source') }} as ordered_at,
        {{ contract_value('orders', 'status', 'source') }} as source_status,
        coalesce(source_statuses.status, status_map.status, 'pending') as order_status,
        upper({{ contract_value('orders', 'currency', 'source') }}) as currency,
        coalesce({{ contract_value('orders', 'order_discount', 'source') }}, 0) as order_discount,
        {{ contract_value('orders', 'order_total', 'source') }} as order_total,
        lower({{ contract_value('orders', 'sales_channel', 'source') }}) as sales_channel,
        {{ lineage_columns('source') }}
    from source
    left join source_statuses
        on source._source_file = source_statuses.source_file
        and lower(trim(source.status)) = source_statuses.source_status
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
