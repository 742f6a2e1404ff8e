-- Churn-risk warnings: one row per customer for whom at least one signal
-- fires as of T, with the signals, the risk level, P(alive), the value at
-- risk (predicted CLV) and the CRM owner who should act. Thresholds are dbt
-- vars (churn_*); churn_risk.yml states every rule.
with as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

recent_orders as (

    select
        orders.customer_id,
        count(*) filter (
            where orders.order_date > as_of.as_of_date - {{ var('churn_activity_window_days') }}
        ) as orders_last_window,
        count(*) filter (
            where orders.order_date <= as_of.as_of_date - {{ var('churn_activity_window_days') }}
                and orders.order_date > as_of.as_of_date - 2 * {{ var('churn_activity_window_days') }}
        ) as orders_window_before
    from {{ ref('int_orders') }} as orders
    cross join as_of
    where orders.is_completed and not orders.is_guest
        and orders.order_date > as_of.as_of_date - 2 * {{ var('churn_activity_window_days') }}
    group by orders.customer_id

),

complaints as (

    select interactions.customer_id, count(*) as recent_complaints
    from {{ ref('stg_crm__interactions') }} as interactions
    cross join as_of
    where interactions.interaction_type = 'complaint'
        and cast(interactions.occurred_at as date) <= as_of.as_of_date
        and cast(interactions.occurred_at as date) > as_of.as_of_date - {{ var('churn_complaint_window_days') }}
    group by interactions.customer_id

),

signals as (

    select
        crm.customer_id,
        crm.account_owner,
        as_of.as_of_date,
        purchases.last_order_date as last_purchase_date,
        as_of.as_of_date - purchases.last_order_date as days_since_last_purchase,
        purchases.median_interval_days,
        coalesce(recent_orders.orders_last_window, 0) as orders_last_window,
        coalesce(recent_orders.orders_window_before, 0) as orders_window_before,
        latest_nps.score as latest_nps_score,
        coalesce(complaints.recent_complaints, 0) as recent_complaints,
        predictions.p_alive,
        predictions.predicted_clv,
        coalesce(
            as_of.as_of_date - purchases.last_order_date
                > {{ var('churn_interval_multiple') }} * purchases.median_interval_days,
            false
        ) as is_overdue,
        coalesce(recent_orders.orders_window_before, 0) > 0
            and coalesce(recent_orders.orders_last_window, 0)
                <= (1 - {{ var('churn_activity_drop') }}) * recent_orders.orders_window_before
            as is_ordering_less,
        coalesce(latest_nps.score <= 6, false) as is_detractor,
        coalesce(complaints.recent_complaints, 0) >= {{ var('churn_complaint_threshold') }} as is_complaining,
        coalesce(predictions.p_alive < {{ var('churn_p_alive_threshold') }}, false) as is_unlikely_alive
    from {{ ref('stg_crm__customers') }} as crm
    cross join as_of
    -- The customer's purchase days: the last one and the median interval between them.
    left join {{ ref('int_customer_orders') }} as purchases on crm.customer_id = purchases.customer_id
    left join recent_orders on crm.customer_id = recent_orders.customer_id
    left join {{ ref('int_customer_latest_nps') }} as latest_nps on crm.customer_id = latest_nps.customer_id
    left join complaints on crm.customer_id = complaints.customer_id
    left join {{ source('predictions', 'customer_predictions') }} as predictions
        on crm.customer_id = predictions.customer_id

),

counted as (

    select
        *,
        cast(is_overdue as integer) + cast(is_ordering_less as integer) + cast(is_detractor as integer)
            + cast(is_complaining as integer) + cast(is_unlikely_alive as integer) as signal_count
    from signals

)

select
    customer_id,
    as_of_date,
    cast(
        case
            when signal_count >= 3 or (is_unlikely_alive and signal_count >= 2) then 'high'
            when signal_count = 2 then 'medium'
            else 'low'
        end as varchar
    ) as risk_level,
    cast(signal_count as integer) as signal_count,
    cast(concat_ws(', ',
        case when is_overdue then 'no purchase for ' || days_since_last_purchase || ' days (usual interval '
            || median_interval_days || ')' end,
        case when is_ordering_less then 'orders down from ' || orders_window_before || ' to '
            || orders_last_window || ' in {{ var("churn_activity_window_days") }} days' end,
        case when is_detractor then 'latest NPS ' || latest_nps_score || ' (detractor)' end,
        case when is_complaining then recent_complaints || ' complaints in {{ var("churn_complaint_window_days") }} days' end,
        case when is_unlikely_alive then 'P(alive) ' || round(p_alive, 2) end
    ) as varchar) as reasons,
    is_overdue,
    is_ordering_less,
    is_detractor,
    is_complaining,
    is_unlikely_alive,
    cast(p_alive as double) as p_alive,
    cast(predicted_clv as double) as value_at_risk,
    cast(account_owner as varchar) as account_owner,
    last_purchase_date,
    cast(days_since_last_purchase as integer) as days_since_last_purchase,
    cast(median_interval_days as double) as median_interval_days,
    cast(orders_last_window as bigint) as orders_last_window,
    cast(orders_window_before as bigint) as orders_window_before,
    cast(latest_nps_score as integer) as latest_nps_score,
    cast(recent_complaints as bigint) as recent_complaints
from counted
where signal_count > 0
