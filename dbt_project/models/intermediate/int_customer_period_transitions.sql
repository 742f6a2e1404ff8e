-- One row per customer, grain and period P (from the second period with data
-- to the one containing T) in which the customer was active in P or in P - 1:
-- the building block of period retention (METRICS.md). A customer is in the
-- starting base S of P when active in P - 1; new when P is their first active
-- period; reactivated when active in P, not in P - 1, and not new; churned
-- when active in P - 1 and not in P. Built from each active period and its
-- neighbours (int_customer_activity_by_period), without a self-join:
-- an active period gives the row of P itself, and an active period whose
-- next active period is not P + 1 gives the churn row of P + 1.
{{ config(materialized='view') }}
{#- A view: its two readers (customer_retention and the yearly churn of
    clv_summary) each scan it once, which is cheaper than writing tens of
    millions of rows; only the grains they need are read. -#}
{%- set grains = (var('retention_grains') + ['year']) | unique | list %}

with activity as (

    select * from {{ ref('int_customer_activity_by_period') }}
    where grain in ({{ quoted_list(grains) }})

),

active_rows as (

    select
        grain,
        customer_id,
        period_index,
        coalesce(previous_active_period_index = period_index - 1, false) as was_active,
        true as is_active,
        period_index = cohort_period_index as is_new,
        revenue,
        case
            when previous_active_period_index = period_index - 1 then previous_active_period_revenue
            else 0
        end as previous_revenue
    from activity

),

churn_rows as (

    select
        grain,
        customer_id,
        period_index + 1 as period_index,
        true as was_active,
        false as is_active,
        false as is_new,
        cast(0 as decimal(18, 2)) as revenue,
        revenue as previous_revenue
    from activity
    where next_active_period_index is null or next_active_period_index > period_index + 1

),

transitions as (

    select grain, customer_id, period_index, was_active, is_active, is_new, revenue, previous_revenue
    from active_rows
    union all
    select grain, customer_id, period_index, was_active, is_active, is_new, revenue, previous_revenue
    from churn_rows

)

select
    transitions.grain,
    transitions.customer_id,
    transitions.period_index,
    spine.period_start,
    spine.period_end,
    spine.is_complete_period,
    transitions.was_active as is_in_start_base,
    transitions.is_active and transitions.was_active as is_retained,
    transitions.was_active and not transitions.is_active as is_churned,
    transitions.is_new,
    transitions.is_active and not transitions.was_active and not transitions.is_new as is_reactivated,
    transitions.is_active,
    transitions.revenue,
    transitions.previous_revenue
from transitions
inner join {{ ref('int_period_spine') }} as spine
    on transitions.grain = spine.grain
    and transitions.period_index = spine.period_index
where transitions.period_index >= 1
