-- One row per customer with at least one completed order on or before T:
-- what CLV, RFM, churn risk and the customer 360 share, with the median
-- interval between the customer's purchase days (churn_risk's "overdue") and
-- the purchase days and first day's revenue the predictive models summarise.
-- Incremental: a run redoes only the customers whose orders changed or whose
-- orders T moved over (macros/changed_customers.sql); the median, a sort of
-- every customer's purchase days, is the costly part at scale.
{{ customer_incremental_config(origins=false) }}

with completed as (

    select customer_id, order_date, ordered_at, net_revenue
    from {{ ref('int_orders') }}
    where is_completed and not is_guest
    {%- if is_incremental() %}
        and {{ is_changed_customer('customer_id', origins=false) }}
    {%- endif %}

),

totals as (

    select
        customer_id,
        count(*) as orders,
        cast(sum(net_revenue) as decimal(18, 2)) as revenue,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        min(ordered_at) as first_ordered_at
    from completed
    group by customer_id

),

purchase_days as (

    select customer_id, order_date as purchase_date, sum(net_revenue) as day_revenue
    from completed
    group by customer_id, order_date

),

gaps as (

    select
        customer_id,
        day_revenue,
        purchase_date,
        purchase_date - lag(purchase_date) over (partition by customer_id order by purchase_date) as gap_days
    from purchase_days

),

intervals as (

    -- The median skips the null gap before each customer's first purchase day, which alone has none.
    select
        customer_id,
        {{ median('gap_days') }} as median_interval_days,
        count(*) as purchase_days,
        sum(case when gap_days is null then day_revenue end) as first_day_revenue
    from gaps
    group by customer_id

)

select
    totals.customer_id,
    totals.orders,
    totals.revenue,
    totals.first_order_date,
    totals.last_order_date,
    totals.first_ordered_at,
    intervals.median_interval_days,
    intervals.purchase_days,
    cast(intervals.first_day_revenue as decimal(18, 2)) as first_day_revenue
from totals
left join intervals on totals.customer_id = intervals.customer_id
