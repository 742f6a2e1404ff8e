-- METRICS.md invariant, every period of customer_retention:
-- E = retained + new + reactivated and S = retained + churned.
select grain, period_start, start_customers, retained_customers, churned_customers,
    new_customers, reactivated_customers, end_customers
from {{ ref('customer_retention') }}
where end_customers <> retained_customers + new_customers + reactivated_customers
   or start_customers <> retained_customers + churned_customers
