-- One row per customer, grain and period in which the customer is active
-- (has at least one completed order), with the orders and net revenue of that
-- period and the customer's first active period (the cohort) of that grain.
{% set grains = ['week', 'month', 'quarter', 'year'] %}

with completed as (

    select customer_id, order_date, net_revenue
    from {{ ref('int_orders') }}
    where is_completed

),

activity as (

    {% for grain in grains %}
    select
        '{{ grain }}' as grain,
        customer_id,
        {{ period_start(grain, 'order_date') }} as period_start,
        count(*) as orders,
        sum(net_revenue) as revenue
    from completed
    group by customer_id, {{ period_start(grain, 'order_date') }}
    {{ 'union all' if not loop.last }}
    {% endfor %}

)

select
    activity.grain,
    activity.customer_id,
    spine.period_index,
    activity.period_start,
    activity.orders,
    cast(activity.revenue as decimal(18, 2)) as revenue,
    min(spine.period_index) over (partition by activity.grain, activity.customer_id) as cohort_period_index
from activity
inner join {{ ref('int_period_spine') }} as spine
    on activity.grain = spine.grain
    and activity.period_start = spine.period_start
