-- RFM as of T for every customer with at least one completed order.
-- Scores 1..5 (5 best) are tie-consistent: customers are ranked from worst to
-- best with RANK() (ties share the lowest rank) and
-- score = 1 + floor(5 * (rank - 1) / n). The segment comes from the
-- rfm_segments seed by (r_score, fm_score), the tier from rfm_tiers.
with customers as (

    select
        customers.customer_id,
        customers.last_order_date,
        {{ dbt.datediff('customers.last_order_date', 'as_of.as_of_date', 'day') }} as recency_days,
        customers.orders as frequency,
        customers.revenue as monetary,
        as_of.as_of_date
    from {{ ref('int_customer_orders') }} as customers
    cross join {{ ref('int_as_of_date') }} as as_of

),

scored as (

    select
        *,
        1 + floor(5 * (rank() over (order by recency_days desc) - 1) / count(*) over ()) as r_score,
        1 + floor(5 * (rank() over (order by frequency asc) - 1) / count(*) over ()) as f_score,
        1 + floor(5 * (rank() over (order by monetary asc) - 1) / count(*) over ()) as m_score
    from customers

),

combined as (

    select
        *,
        -- round((f + m) / 2) with halves rounded up, in integer arithmetic.
        floor((f_score + m_score + 1) / 2) as fm_score
    from scored

)

select
    cast(combined.customer_id as varchar) as customer_id,
    combined.as_of_date,
    combined.last_order_date,
    cast(combined.recency_days as integer) as recency_days,
    cast(combined.frequency as bigint) as frequency,
    combined.monetary,
    cast(combined.r_score as integer) as r_score,
    cast(combined.f_score as integer) as f_score,
    cast(combined.m_score as integer) as m_score,
    cast(combined.fm_score as integer) as fm_score,
    cast(
        cast(cast(combined.r_score as integer) as varchar)
        || cast(cast(combined.f_score as integer) as varchar)
        || cast(cast(combined.m_score as integer) as varchar) as varchar
    ) as rfm_cell,
    cast(segments.rfm_segment as varchar) as rfm_segment,
    cast(tiers.customer_tier as varchar) as customer_tier,
    cast(tiers.customer_tier_zh as varchar) as customer_tier_zh
from combined
left join {{ ref('rfm_segments') }} as segments
    on combined.r_score = segments.r_score
    and combined.fm_score = segments.fm_score
left join {{ ref('rfm_tiers') }} as tiers
    on segments.rfm_segment = tiers.rfm_segment
