-- Formula CLV per acquisition cohort year and per acquisition channel:
-- CLV = average order value x purchase frequency x expected lifespan, each
-- factor its own column (METRICS.md). Choices written down here and in YAML:
-- - purchase frequency = orders per customer / observed tenure in years,
--   where the observed tenure is the mean over the group's customers of
--   (T - first order date) / 365.25 days;
-- - annual churn rate = churned / starting customers pooled over the group's
--   complete calendar years (the yearly grain of customer_retention, on the
--   group's customers only); expected lifespan = 1 / that rate;
-- - a null factor (no tenure yet, no complete year, churn rate 0) gives a null CLV.
with customer_groups as (

    select
        customers.customer_id,
        customers.orders,
        customers.revenue,
        {{ dbt.datediff('customers.first_order_date', 'as_of.as_of_date', 'day') }} / 365.25 as tenure_years,
        cast(extract(year from customers.first_order_date) as varchar) as acquisition_cohort_year,
        coalesce(crm.acquisition_channel, 'unknown') as acquisition_channel
    from {{ ref('int_customer_orders') }} as customers
    cross join {{ ref('int_as_of_date') }} as as_of
    left join {{ ref('stg_crm__customers') }} as crm
        on customers.customer_id = crm.customer_id

),

membership as (

    select customer_id, 'acquisition_cohort_year' as dimension, acquisition_cohort_year as dimension_value
    from customer_groups
    union all
    select customer_id, 'acquisition_channel' as dimension, acquisition_channel as dimension_value
    from customer_groups

),

value as (

    select
        membership.dimension,
        membership.dimension_value,
        count(*) as customers,
        sum(customer_groups.orders) as orders,
        sum(customer_groups.revenue) as revenue,
        avg(customer_groups.tenure_years) as observed_tenure_years
    from membership
    inner join customer_groups on membership.customer_id = customer_groups.customer_id
    group by membership.dimension, membership.dimension_value

),

yearly_churn as (

    select
        membership.dimension,
        membership.dimension_value,
        sum(case when transitions.is_in_start_base then 1 else 0 end) as start_customers,
        sum(case when transitions.is_churned then 1 else 0 end) as churned_customers
    from membership
    inner join {{ ref('int_customer_period_transitions') }} as transitions
        on membership.customer_id = transitions.customer_id
    where transitions.grain = 'year'
        and transitions.is_complete_period
    group by membership.dimension, membership.dimension_value

),

factors as (

    select
        value.*,
        cast(value.revenue as double) / value.orders as average_order_value,
        cast(value.orders as double) / value.customers / nullif(value.observed_tenure_years, 0) as purchase_frequency,
        cast(yearly_churn.churned_customers as double) / nullif(yearly_churn.start_customers, 0) as annual_churn_rate
    from value
    left join yearly_churn
        on value.dimension = yearly_churn.dimension
        and value.dimension_value = yearly_churn.dimension_value

)

select
    cast(dimension as varchar) as dimension,
    cast(dimension_value as varchar) as dimension_value,
    cast(customers as bigint) as customers,
    cast(orders as bigint) as orders,
    cast(revenue as decimal(18, 2)) as revenue,
    average_order_value,
    cast(observed_tenure_years as double) as observed_tenure_years,
    purchase_frequency,
    annual_churn_rate,
    1 / nullif(annual_churn_rate, 0) as expected_lifespan_years,
    average_order_value * purchase_frequency / nullif(annual_churn_rate, 0) as clv
from factors
