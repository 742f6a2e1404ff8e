-- One row per customer with at least one completed order on or before T:
-- what CLV, RFM and the customer 360 share.
select
    customer_id,
    count(*) as orders,
    cast(sum(net_revenue) as decimal(18, 2)) as revenue,
    min(order_date) as first_order_date,
    max(order_date) as last_order_date,
    min(ordered_at) as first_ordered_at
from {{ ref('int_orders') }}
where is_completed and not is_guest
group by customer_id
