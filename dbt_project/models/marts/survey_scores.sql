-- NPS and CSAT by month of response, overall and by customer tier (the tier
-- as of T from customer_rfm; customers without a completed order are
-- `unscored`). Responses outside their scale never count here.
with responses as (

    select
        responses.customer_id,
        responses.survey_type,
        responses.score,
        {{ period_start('month', 'cast(responses.submitted_at as date)') }} as month
    from {{ ref('stg_surveys__survey_responses') }} as responses
    cross join {{ ref('int_as_of_date') }} as as_of
    where cast(responses.submitted_at as date) <= as_of.as_of_date
        and (
            (responses.survey_type = 'nps' and responses.score between 0 and 10)
            or (responses.survey_type = 'csat' and responses.score between 1 and 5)
        )

),

tiered as (

    select
        responses.*,
        coalesce(rfm.customer_tier, 'unscored') as customer_tier,
        coalesce(rfm.customer_tier_zh, '未分层') as customer_tier_zh
    from responses
    left join {{ ref('customer_rfm') }} as rfm on responses.customer_id = rfm.customer_id

),

breakdowns as (

    select 'overall' as breakdown, cast(null as varchar) as customer_tier, cast(null as varchar) as customer_tier_zh,
        month, survey_type, score
    from tiered
    union all
    select 'customer_tier' as breakdown, customer_tier, customer_tier_zh, month, survey_type, score
    from tiered

),

counted as (

    select
        breakdown,
        customer_tier,
        customer_tier_zh,
        month,
        sum(case when survey_type = 'nps' then 1 else 0 end) as nps_responses,
        sum(case when survey_type = 'nps' and score >= 9 then 1 else 0 end) as promoters,
        sum(case when survey_type = 'nps' and score between 7 and 8 then 1 else 0 end) as passives,
        sum(case when survey_type = 'nps' and score <= 6 then 1 else 0 end) as detractors,
        sum(case when survey_type = 'csat' then 1 else 0 end) as csat_responses,
        sum(case when survey_type = 'csat' and score >= 4 then 1 else 0 end) as csat_satisfied
    from breakdowns
    group by breakdown, customer_tier, customer_tier_zh, month

)

select
    counted.month,
    cast(counted.breakdown as varchar) as breakdown,
    counted.customer_tier,
    counted.customer_tier_zh,
    cast(counted.nps_responses as bigint) as nps_responses,
    cast(counted.promoters as bigint) as promoters,
    cast(counted.passives as bigint) as passives,
    cast(counted.detractors as bigint) as detractors,
    100.0 * (counted.promoters - counted.detractors) / nullif(counted.nps_responses, 0) as nps,
    cast(counted.csat_responses as bigint) as csat_responses,
    cast(counted.csat_satisfied as bigint) as csat_satisfied,
    100.0 * counted.csat_satisfied / nullif(counted.csat_responses, 0) as csat,
    {{ period_end('month', 'counted.month') }} <= as_of.as_of_date as is_complete_period
from counted
cross join {{ ref('int_as_of_date') }} as as_of
