-- One row per order line (order_id, line_number), the latest load wins;
-- exact duplicates of a line therefore collapse to one. Typed.
with source as (

    {{ accepted_rows('orders', 'order_items') }}

),

typed as (

    select
        trim(order_id) as order_id,
        {{ dbt.safe_cast('line_number', 'integer') }} as line_number,
        nullif(trim(product_id), '') as product_id,
        nullif(trim(product_category), '') as product_category,
        {{ dbt.safe_cast('quantity', 'integer') }} as quantity,
        {{ dbt.safe_cast('unit_price', 'decimal(18, 2)') }} as unit_price,
        coalesce({{ dbt.safe_cast('line_discount', 'decimal(18, 2)') }}, 0) as line_discount,
        {{ lineage_columns() }}
    from source

),

latest as (

    {{ latest_row('select * from typed', ['order_id', 'line_number'], '_loaded_at desc, _row_number desc') }}

)

select
    order_id,
    line_number,
    product_id,
    product_category,
    quantity,
    unit_price,
    line_discount,
    quantity * unit_price - line_discount as line_net_amount,
    {{ lineage_columns(with_loaded_at=false) }}
from latest
