-- Cohort retention: for every cohort (period of the first completed order) and
-- every period k = 0, 1, ... up to the period containing T, how many cohort
-- customers were active and what they spent. Grains: var('cohort_grains').
with activity as (

    select * from {{ ref('int_customer_activity_by_period') }}
    where grain in ({{ quoted_list(var('cohort_grains')) }})

),

cohort_activity as (

    select
        grain,
        cohort_period_index,
        period_index,
        count(*) as active_customers,
        sum(revenue) as revenue
    from activity
    group by grain, cohort_period_index, period_index

),

cohort_sizes as (

    -- Every customer is active in their cohort period (it is their first active
    -- period), once: the cohort's size is its active customers there, which
    -- spares a count(distinct customer_id) over every activity row.
    select grain, cohort_period_index, active_customers as cohort_size
    from cohort_activity
    where period_index = cohort_period_index

),

grid as (

    select
        cohort_sizes.grain,
        cohort_sizes.cohort_period_index,
        cohort_sizes.cohort_size,
        spine.period_index,
        spine.period_start,
        spine.is_complete_period
    from cohort_sizes
    inner join {{ ref('int_period_spine') }} as spine
        on cohort_sizes.grain = spine.grain
        and spine.period_index >= cohort_sizes.cohort_period_index

),

filled as (

    select
        grid.grain,
        cohorts.period_start as cohort_period,
        grid.period_index - grid.cohort_period_index as period_number,
        grid.period_start,
        grid.cohort_size,
        coalesce(cohort_activity.active_customers, 0) as active_customers,
        cast(coalesce(cohort_activity.revenue, 0) as decimal(18, 2)) as revenue,
        grid.is_complete_period
    from grid
    inner join {{ ref('int_period_spine') }} as cohorts
        on grid.grain = cohorts.grain
        and grid.cohort_period_index = cohorts.period_index
    left join cohort_activity
        on grid.grain = cohort_activity.grain
        and grid.cohort_period_index = cohort_activity.cohort_period_index
        and grid.period_index = cohort_activity.period_index

)

select
    cast(grain as varchar) as grain,
    cohort_period,
    cast(period_number as integer) as period_number,
    period_start,
    cast(cohort_size as bigint) as cohort_size,
    cast(active_customers as bigint) as active_customers,
    cast(active_customers as double) / cohort_size as retention_rate,
    revenue,
    cast(revenue as double) / nullif(cast(first_value(revenue) over cohort as double), 0) as revenue_retention,
    cast(sum(revenue) over cohort_to_date as decimal(18, 2)) as cumulative_revenue,
    cast(sum(revenue) over cohort_to_date as double) / cohort_size as cumulative_revenue_per_customer,
    is_complete_period
from filled
window
    cohort as (partition by grain, cohort_period order by period_number),
    cohort_to_date as (partition by grain, cohort_period order by period_number rows between unbounded preceding and current row)
