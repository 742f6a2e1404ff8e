-- One row per grain, customer and period in which the customer is active
-- (has at least one completed order), with the net revenue of that period,
-- the customer's first active period (the cohort) of that grain and their
-- previous and next active periods, all numbered by period_index.
-- Why it is built this way (it is the widest step of the marts at scale):
-- - period_index is plain date arithmetic from the first period of the
--   spine (index 0), not a join with the spine on period_start;
-- - quarters and years are rolled up from the months, which is the same sum
--   over a third of the rows;
-- - one narrow window per grain, partitioned by customer only, gives the
--   neighbours, so period retention needs no self-join.
-- On 10 million orders this takes about two thirds of the time of one
-- window over (grain, customer) rows that carry period_start and orders.
-- Incremental: a run redoes only the customers whose orders changed or whose
-- orders T moved over, all when the spine's origin moved
-- (macros/changed_customers.sql).
{{ customer_incremental_config() }}

with completed as (

    select customer_id, order_date, net_revenue
    from {{ ref('int_orders') }}
    where is_completed and not is_guest
    {%- if is_incremental() %}
        and {{ is_changed_customer('customer_id') }}
    {%- endif %}

),

first_periods as (

    {{ period_origins() }}

),

by_week as (

    select
        completed.customer_id,
        -- Both are Mondays: whole weeks apart.
        cast({{ dbt.datediff('first_periods.first_week', period_start('week', 'completed.order_date'), 'day') }} // 7
            as integer) as period_index,
        sum(completed.net_revenue) as revenue
    from completed
    cross join first_periods
    group by 1, 2

),

by_month as (

    select
        completed.customer_id,
        -- Month boundaries crossed, whatever the day of the month.
        cast({{ dbt.datediff('first_periods.first_month', 'completed.order_date', 'month') }} as integer)
            as period_index,
        sum(completed.net_revenue) as revenue
    from completed
    cross join first_periods
    group by 1, 2

),

{% for grain, months in [('quarter', 3), ('year', 12)] %}
by_{{ grain }} as (

    -- Months counted from year 0: the {{ grain }} of month m is m // {{ months }}.
    select
        by_month.customer_id,
        cast(
            (first_month.months_from_year_0 + by_month.period_index) // {{ months }}
            - first_month.months_from_year_0 // {{ months }}
        as integer) as period_index,
        sum(by_month.revenue) as revenue
    from by_month
    cross join (
        select extract(year from first_month) * 12 + extract(month from first_month) - 1 as months_from_year_0
        from first_periods
    ) as first_month
    group by 1, 2

){{ ',' if not loop.last }}

{% endfor %}

{% for grain in ['week', 'month', 'quarter', 'year'] %}
(
    select
        '{{ grain }}' as grain,
        customer_id,
        period_index,
        cast(revenue as decimal(18, 2)) as revenue,
        first_value(period_index) over customer_periods as cohort_period_index,
        lag(period_index) over customer_periods as previous_active_period_index,
        cast(lag(revenue) over customer_periods as decimal(18, 2)) as previous_active_period_revenue,
        lead(period_index) over customer_periods as next_active_period_index
    from by_{{ grain }}
    window customer_periods as (partition by customer_id order by period_index)
)
{{ 'union all' if not loop.last }}
{% endfor %}
