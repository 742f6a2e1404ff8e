-- METRICS.md invariant: in period k = 0 every cohort customer is active
-- (retention 1.0), and no later period has more active customers than the cohort.
select grain, cohort_period, period_number, cohort_size, active_customers
from {{ ref('cohort_retention') }}
where (period_number = 0 and (active_customers <> cohort_size or retention_rate <> 1.0))
   or active_customers > cohort_size
