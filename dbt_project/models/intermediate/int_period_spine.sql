-- Every period of every grain from the first period holding a completed order
-- to the period containing T, numbered from 0 (period_index) so that "the
-- previous period" and "k periods after the cohort" are plain arithmetic.
{% set grains = ['week', 'month', 'quarter', 'year'] %}

with bounds as (

    select
        min(orders.order_date) as first_date,
        max(as_of.as_of_date) as as_of_date
    from {{ ref('int_orders') }} as orders
    cross join {{ ref('int_as_of_date') }} as as_of
    where orders.is_completed and not orders.is_guest

),

numbers as (

    {{ numbers(4) }}

),

{% for grain in grains %}
{{ grain }}_periods as (

    select
        '{{ grain }}' as grain,
        numbers.n as period_index,
        {{ period_start(grain, dbt.dateadd(grain, 'numbers.n', period_start(grain, 'bounds.first_date'))) }}
            as period_start,
        bounds.as_of_date
    from bounds
    cross join numbers
    where {{ dbt.dateadd(grain, 'numbers.n', period_start(grain, 'bounds.first_date')) }}
        <= bounds.as_of_date

){{ ',' if not loop.last }}
{% endfor %}

{% for grain in grains %}
select
    grain,
    period_index,
    period_start,
    {{ period_end(grain, 'period_start') }} as period_end,
    {{ period_end(grain, 'period_start') }} <= as_of_date as is_complete_period
from {{ grain }}_periods
{{ 'union all' if not loop.last }}
{% endfor %}
