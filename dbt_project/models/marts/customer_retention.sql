-- Period retention (METRICS.md) for var('retention_grains'): for every period P
-- after the first period with data up to the one containing T, the starting
-- base S (active in P - 1), retained, churned, new and reactivated customers,
-- CRR, churn and revenue retention of the starting base. S = 0 gives null rates.
with transitions as (

    select * from {{ ref('int_customer_period_transitions') }}
    where grain in ({{ quoted_list(var('retention_grains')) }})

),

counts as (

    select
        grain,
        period_index,
        sum(case when is_in_start_base then 1 else 0 end) as start_customers,
        sum(case when is_retained then 1 else 0 end) as retained_customers,
        sum(case when is_churned then 1 else 0 end) as churned_customers,
        sum(case when is_new then 1 else 0 end) as new_customers,
        sum(case when is_reactivated then 1 else 0 end) as reactivated_customers,
        sum(case when is_active then 1 else 0 end) as end_customers,
        sum(case when is_in_start_base then previous_revenue else 0 end) as start_base_previous_revenue,
        sum(case when is_in_start_base then revenue else 0 end) as start_base_revenue,
        sum(case when is_in_start_base then least(revenue, previous_revenue) else 0 end) as start_base_kept_revenue
    from transitions
    group by grain, period_index

),

spine as (

    select * from {{ ref('int_period_spine') }}
    where period_index >= 1
        and grain in ({{ quoted_list(var('retention_grains')) }})

)

select
    cast(spine.grain as varchar) as grain,
    spine.period_start,
    spine.period_end,
    cast(coalesce(counts.start_customers, 0) as bigint) as start_customers,
    cast(coalesce(counts.retained_customers, 0) as bigint) as retained_customers,
    cast(coalesce(counts.churned_customers, 0) as bigint) as churned_customers,
    cast(coalesce(counts.new_customers, 0) as bigint) as new_customers,
    cast(coalesce(counts.reactivated_customers, 0) as bigint) as reactivated_customers,
    cast(coalesce(counts.end_customers, 0) as bigint) as end_customers,
    cast(counts.retained_customers as double) / nullif(counts.start_customers, 0) as customer_retention_rate,
    cast(counts.churned_customers as double) / nullif(counts.start_customers, 0) as churn_rate,
    cast(coalesce(counts.start_base_previous_revenue, 0) as decimal(18, 2)) as start_base_previous_revenue,
    cast(coalesce(counts.start_base_revenue, 0) as decimal(18, 2)) as start_base_revenue,
    case when counts.start_customers > 0 then
        cast(counts.start_base_revenue as double) / nullif(cast(counts.start_base_previous_revenue as double), 0)
    end as net_revenue_retention,
    case when counts.start_customers > 0 then
        cast(counts.start_base_kept_revenue as double) / nullif(cast(counts.start_base_previous_revenue as double), 0)
    end as gross_revenue_retention,
    spine.is_complete_period
from spine
left join counts
    on spine.grain = counts.grain
    and spine.period_index = counts.period_index
