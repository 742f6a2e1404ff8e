-- Customer 360: one row per CRM customer (latest version by updated_at),
-- customers without orders included, with their order history as of T, RFM
-- scores, segment and tier, and their latest NPS answer. Contact details only
-- as keyed pseudonyms, and no names: this mart goes to every BI user
-- (names: restricted.customer_contacts).
with latest_nps as (

    select * from {{ ref('int_customer_latest_nps') }}

),

predictions as (

    select customer_id, p_alive, expected_purchases, predicted_clv
    from {{ source('predictions', 'customer_predictions') }}

),

churn as (

    select customer_id, risk_level from {{ ref('churn_risk') }}

)

select
    crm.customer_id,
    crm.email_hash,
    crm.phone_hash,
    crm.company,
    crm.industry,
    crm.country,
    crm.city,
    crm.acquisition_channel,
    crm.account_owner,
    crm.created_at,
    crm.updated_at,
    orders.first_order_date,
    orders.last_order_date,
    cast(coalesce(orders.orders, 0) as bigint) as orders,
    cast(coalesce(orders.revenue, 0) as decimal(18, 2)) as revenue,
    {{ period_start('month', 'orders.first_order_date') }} as cohort_month,
    rfm.recency_days,
    rfm.r_score,
    rfm.f_score,
    rfm.m_score,
    rfm.rfm_segment,
    rfm.customer_tier,
    rfm.customer_tier_zh,
    cast(latest_nps.score as integer) as latest_nps_score,
    cast(
        case
            when latest_nps.score >= 9 then 'promoter'
            when latest_nps.score >= 7 then 'passive'
            when latest_nps.score is not null then 'detractor'
        end as varchar
    ) as latest_nps_category,
    cast(latest_nps.submitted_at as timestamp) as latest_nps_at,
    cast(predictions.p_alive as double) as p_alive,
    cast(predictions.expected_purchases as double) as expected_purchases,
    cast(predictions.predicted_clv as double) as predicted_clv,
    cast(churn.risk_level as varchar) as churn_risk_level
from {{ ref('stg_crm__customers') }} as crm
left join {{ ref('int_customer_orders') }} as orders on crm.customer_id = orders.customer_id
left join {{ ref('customer_rfm') }} as rfm on crm.customer_id = rfm.customer_id
left join latest_nps on crm.customer_id = latest_nps.customer_id
left join predictions on crm.customer_id = predictions.customer_id
left join churn on crm.customer_id = churn.customer_id
