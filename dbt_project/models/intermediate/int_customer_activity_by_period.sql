-- One row per customer, grain and period in which the customer is active
-- (has at least one completed order), with the orders and net revenue of that
-- period, the customer's first active period (the cohort) of that grain and
-- their previous and next active periods, all numbered by period_index.
-- One window pass gives the neighbours, so period retention needs no self-join.
-- Weeks and months are aggregated from the orders; quarters and years are
-- rolled up from the months, which is the same sum over fewer rows.
with completed as (

    select customer_id, order_date, net_revenue
    from {{ ref('int_orders') }}
    where is_completed

),

by_week as (

    select customer_id, {{ period_start('week', 'order_date') }} as period_start,
        count(*) as orders, sum(net_revenue) as revenue
    from completed
    group by customer_id, {{ period_start('week', 'order_date') }}

),

by_month as (

    select customer_id, {{ period_start('month', 'order_date') }} as period_start,
        count(*) as orders, sum(net_revenue) as revenue
    from completed
    group by customer_id, {{ period_start('month', 'order_date') }}

),

activity as (

    select 'week' as grain, customer_id, period_start, orders, revenue from by_week
    union all
    select 'month' as grain, customer_id, period_start, orders, revenue from by_month
    {% for grain in ['quarter', 'year'] %}
    union all
    select '{{ grain }}' as grain, customer_id, {{ period_start(grain, 'period_start') }} as period_start,
        sum(orders) as orders, sum(revenue) as revenue
    from by_month
    group by customer_id, {{ period_start(grain, 'period_start') }}
    {% endfor %}

),

indexed as (

    select
        activity.grain,
        activity.customer_id,
        spine.period_index,
        activity.period_start,
        activity.orders,
        activity.revenue
    from activity
    inner join {{ ref('int_period_spine') }} as spine
        on activity.grain = spine.grain
        and activity.period_start = spine.period_start

)

select
    grain,
    customer_id,
    period_index,
    period_start,
    cast(orders as bigint) as orders,
    cast(revenue as decimal(18, 2)) as revenue,
    first_value(period_index) over customer_periods as cohort_period_index,
    lag(period_index) over customer_periods as previous_active_period_index,
    cast(lag(revenue) over customer_periods as decimal(18, 2)) as previous_active_period_revenue,
    lead(period_index) over customer_periods as next_active_period_index
from indexed
window customer_periods as (partition by grain, customer_id order by period_index)
