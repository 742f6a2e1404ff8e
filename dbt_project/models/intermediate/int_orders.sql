-- One row per order placed on or before T, with its lines summed, its amounts
-- in the reporting currency and its net revenue (METRICS.md):
-- sum of quantity * unit_price - line_discount over the lines, minus the
-- order discount; the order total where the source has no lines.
with orders as (

    select * from {{ ref('stg_orders__orders') }}

),

lines as (

    select
        order_id,
        count(*) as line_count,
        sum(quantity) as items_quantity,
        sum(quantity * unit_price) as gross_amount,
        sum(line_discount) as line_discount,
        sum(line_net_amount) as lines_net_amount
    from {{ ref('stg_orders__order_items') }}
    group by order_id

),

fx_rates as (

    select upper(trim(currency)) as currency, rate_to_reporting
    from {{ ref('fx_rates') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

priced as (

    select
        orders.order_id,
        orders.customer_id,
        orders.ordered_at,
        cast(orders.ordered_at as date) as order_date,
        orders.order_status,
        orders.source_status,
        orders.sales_channel,
        -- An order without a currency is taken to be in the reporting currency.
        coalesce(orders.currency, '{{ var("reporting_currency") }}') as source_currency,
        case
            when coalesce(orders.currency, '{{ var("reporting_currency") }}') = '{{ var("reporting_currency") }}'
                then 1
            else fx_rates.rate_to_reporting
        end as fx_rate,
        coalesce(lines.line_count, 0) as line_count,
        coalesce(lines.items_quantity, 0) as items_quantity,
        lines.gross_amount,
        lines.line_discount,
        lines.lines_net_amount,
        orders.order_discount,
        orders.order_total
    from orders
    cross join as_of
    left join lines on orders.order_id = lines.order_id
    left join fx_rates on orders.currency = fx_rates.currency
    where cast(orders.ordered_at as date) <= as_of.as_of_date

)

select
    order_id,
    customer_id,
    ordered_at,
    order_date,
    order_status,
    source_status,
    order_status = 'completed' as is_completed,
    sales_channel,
    source_currency,
    case
        when fx_rate is null then {{ raise_error(
            "'order ' || order_id || ' is in ' || source_currency || ' but the reporting currency is "
            ~ var('reporting_currency') ~ " and seeds/fx_rates.csv has no rate for '
            || source_currency || ': add a row (currency, rate_to_reporting) or set var reporting_currency'"
        ) }}
        else fx_rate
    end as fx_rate,
    line_count,
    items_quantity,
    cast(round(coalesce(gross_amount, order_total + order_discount) * fx_rate, 2) as decimal(18, 2)) as gross_amount,
    cast(round(coalesce(line_discount, 0) * fx_rate, 2) as decimal(18, 2)) as line_discount,
    cast(round(order_discount * fx_rate, 2) as decimal(18, 2)) as order_discount,
    cast(round(
        case when line_count > 0 then lines_net_amount - order_discount else order_total end * fx_rate, 2
    ) as decimal(18, 2)) as net_revenue
from priced
