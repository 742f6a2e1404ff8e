-- Historical value per customer with at least one completed order, as of T.
select
    cast(customers.customer_id as varchar) as customer_id,
    cast(customers.orders as bigint) as orders,
    customers.revenue as historical_revenue,
    cast(customers.revenue as double) / customers.orders as average_order_value,
    customers.first_order_date,
    customers.last_order_date,
    cast({{ dbt.datediff('customers.first_order_date', 'as_of.as_of_date', 'day') }} as integer) as tenure_days,
    as_of.as_of_date
from {{ ref('int_customer_orders') }} as customers
cross join {{ ref('int_as_of_date') }} as as_of
