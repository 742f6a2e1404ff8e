-- Who to call: the name of every CRM customer beside the id the marts use,
-- with the account owner who calls. Kept out of the marts schema on purpose
-- (README "Personal data"): it is published only on request, to a file of
-- its own. A view: it is the latest CRM version of each customer as staging
-- keeps it, so copying a million rows every run would only serve the rare
-- publication, which reads it then.
{{ config(materialized='view') }}

select
    customers.customer_id,
    customers.customer_name,
    customers.company,
    customers.account_owner,
    customers.country,
    customers.city
from {{ ref('stg_crm__customers') }} as customers
