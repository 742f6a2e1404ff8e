-- METRICS.md invariant: the net revenue of completed orders of identified
-- customers (guest orders are reported beside it) is the same, to the cent, in fct_orders, in the sum of customer historical revenue and in
-- the sum of cohort revenue of every cohort grain. Returns the disagreeing totals.
{#- Shown in Dagster as a check on cohort_retention (a test on several marts needs one home). -#}
{{ config(meta={'dagster': {'ref': {'name': 'cohort_retention'}}}) }}
with totals as (

    select 'fct_orders' as source, coalesce(sum(net_revenue), 0) as revenue
    from {{ ref('fct_orders') }}
    where is_completed and not is_guest
    union all
    select 'customer_lifetime_value', coalesce(sum(historical_revenue), 0)
    from {{ ref('customer_lifetime_value') }}
    union all
    select 'cohort_retention:' || grain, coalesce(sum(revenue), 0)
    from {{ ref('cohort_retention') }}
    group by grain

)

select source, revenue
from totals
where revenue <> (select revenue from totals where source = 'fct_orders')
