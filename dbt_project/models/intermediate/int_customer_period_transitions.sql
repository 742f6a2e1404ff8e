-- One row per customer, grain and period P in which the customer is active in
-- P or in P - 1: the building block of period retention (METRICS.md).
-- A customer is in the starting base S of P when active in P - 1; new when P
-- is their first active period; reactivated when active in P, not in P - 1,
-- and not new. Periods start at the second period with data and end at the
-- period containing T.
with activity as (

    select * from {{ ref('int_customer_activity_by_period') }}

),

pairs as (

    select
        coalesce(current_period.grain, previous_period.grain) as grain,
        coalesce(current_period.customer_id, previous_period.customer_id) as customer_id,
        coalesce(current_period.period_index, previous_period.period_index + 1) as period_index,
        coalesce(current_period.cohort_period_index, previous_period.cohort_period_index) as cohort_period_index,
        current_period.customer_id is not null as is_active,
        previous_period.customer_id is not null as was_active,
        coalesce(current_period.revenue, 0) as revenue,
        coalesce(previous_period.revenue, 0) as previous_revenue
    from activity as current_period
    full outer join activity as previous_period
        on current_period.grain = previous_period.grain
        and current_period.customer_id = previous_period.customer_id
        and current_period.period_index = previous_period.period_index + 1

)

select
    pairs.grain,
    pairs.customer_id,
    pairs.period_index,
    spine.period_start,
    spine.period_end,
    spine.is_complete_period,
    pairs.was_active as is_in_start_base,
    pairs.is_active and pairs.was_active as is_retained,
    pairs.was_active and not pairs.is_active as is_churned,
    pairs.is_active and pairs.period_index = pairs.cohort_period_index as is_new,
    pairs.is_active and not pairs.was_active and pairs.period_index > pairs.cohort_period_index as is_reactivated,
    pairs.is_active,
    pairs.revenue,
    pairs.previous_revenue
from pairs
inner join {{ ref('int_period_spine') }} as spine
    on pairs.grain = spine.grain
    and pairs.period_index = spine.period_index
where pairs.period_index >= 1
