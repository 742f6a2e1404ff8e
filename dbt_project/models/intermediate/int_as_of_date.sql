-- The as-of date T of every mart: var('as_of_date') when set, otherwise the
-- date of the latest completed order, so that runs are deterministic.
{% set as_of_date = var('as_of_date') %}

{% if as_of_date %}
select cast('{{ as_of_date }}' as date) as as_of_date
{% else %}
select max(cast(ordered_at as date)) as as_of_date
from {{ ref('stg_orders__orders') }}
where order_status = 'completed'
{% endif %}
