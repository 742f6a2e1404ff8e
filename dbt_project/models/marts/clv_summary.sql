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
-- Each customer's figures are summed once per customer first (one row each), so
-- the two groupings read a million rows instead of joining the customers'
-- yearly transitions once per dimension.
with yearly_churn as (

    select
        customer_id,
        sum(case when is_in_start_base then 1 else 0 end) as start_years,
        sum(case when is_churned then 1 else 0 end) as churned_years
    from {{ ref('int_customer_period_transitions') }}
    where grain = 'year'
        and is_complete_period
    group by customer_id

),

customer_groups as (

    select
        customers.customer_id,
        customers.orders,
        customers.revenue,
        {{ dbt.datediff('customers.first_order_date', 'as_of.as_of_date', 'day') }} / 365.25 as tenure_years,
        cast(extract(year from customers.first_order_date) as varchar) as acquisition_cohort_year,
        coalesce(crm.acquisition_channel, 'unknown') as acquisition_channel,
        -- null for a customer with no complete year: a group of only such customers has no churn rate
        yearly_churn.start_years,
        yearly_churn.churned_years
    from {{ ref('int_customer_orders') }} as customers
    cross join {{ ref('int_as_of_date') }} as as_of
    left join {{ ref('stg_crm__customers') }} as crm
        on customers.customer_id = crm.customer_id
    left join yearly_churn
        on customers.customer_id = yearly_churn.customer_id

),

membership as (

    select 'acquisition_cohort_year' as dimension, acquisition_cohort_year as dimension_value, customer_groups.*
    from customer_groups
    union all
    select 'acquisition_channel' as dimension, acquisition_channel as dimension_value, customer_groups.*
    from customer_groups

),

factors as (

    select
        dimension,
        dimension_value,
        count(*) as customers,
        sum(orders) as orders,
        sum(revenue) as revenue,
        avg(tenure_years) as observed_tenure_years,
        cast(sum(revenue) as double) / sum(orders) as average_order_value,
        cast(sum(orders) as double) / count(*) / nullif(avg(tenure_years), 0) as purchase_frequency,
        cast(sum(churned_years) as double) / nullif(sum(start_years), 0) as annual_churn_rate
    from membership
    group by dimension, dimension_value

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
