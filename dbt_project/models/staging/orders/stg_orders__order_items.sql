-- One row per order line (order_id, line_number), the latest load wins;
-- exact duplicates of a line therefore collapse to one. Typed.
with source as (

    {{ accepted_rows('orders', 'order_items') }}

),

typed as (

    select
        {{ contract_value('order_items', 'order_id') }} as order_id,
        {{ contract_value('order_items', 'line_number') }} as line_number,
        {{ contract_value('order_items', 'product_id') }} as product_id,
        {{ contract_value('order_items', 'product_category') }} as product_category,
        {{ contract_value('order_items', 'quantity') }} as quantity,
        {{ contract_value('order_items', 'unit_price') }} as unit_price,
        coalesce({{ contract_value('order_items', 'line_discount') }}, 0) as line_discount,
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
    -- Cents: a quantity of 2.5 at 3.99 is 9.975, billed as 9.98.
    cast(quantity * unit_price as decimal(18, 2)) - line_discount as line_net_amount,
    {{ lineage_columns(with_loaded_at=false) }}
from latest
