-- The orders placed on or before T (int_as_of_date), with their amounts from
-- int_order_amounts: what every customer-level model and the order fact read.
-- A view: the amounts are kept (incrementally) for every order, and T moves,
-- so the filter is applied when the models read it instead of copying ten
-- million rows into a second table each run.
{{ config(materialized='view') }}

select amounts.*
from {{ ref('int_order_amounts') }} as amounts
cross join {{ ref('int_as_of_date') }} as as_of
where amounts.order_date <= as_of.as_of_date
