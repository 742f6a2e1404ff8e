-- METRICS.md invariant: the sum of cohort sizes (per cohort grain) equals the
-- customers with at least one completed order, the rows of customer_rfm and
-- the rows of customer_lifetime_value. Returns the disagreeing counts.
{#- Shown in Dagster as a check on cohort_retention (a test on several marts needs one home). -#}
{{ config(meta={'dagster': {'ref': {'name': 'cohort_retention'}}}) }}
with counts as (

    select 'customers with a completed order' as source, count(distinct customer_id) as customers
    from {{ ref('fct_orders') }}
    where is_completed and not is_guest
    union all
    select 'customer_rfm', count(*) from {{ ref('customer_rfm') }}
    union all
    select 'customer_lifetime_value', count(*) from {{ ref('customer_lifetime_value') }}
    union all
    select 'cohort_retention:' || grain, sum(cohort_size)
    from {{ ref('cohort_retention') }}
    where period_number = 0
    group by grain

)

select source, customers
from counts
where customers <> (select customers from counts where source = 'customers with a completed order')
