-- One row per customer who answered an NPS survey on or before T: their latest
-- answer (ties on the timestamp broken by the higher response_id). Shared by
-- dim_customers and churn_risk.
select customer_id, score, submitted_at
from (
    select
        responses.customer_id,
        responses.score,
        responses.submitted_at,
        row_number() over (
            partition by responses.customer_id
            order by responses.submitted_at desc, responses.response_id desc
        ) as recency_rank
    from {{ ref('stg_surveys__survey_responses') }} as responses
    cross join {{ ref('int_as_of_date') }} as as_of
    where responses.survey_type = 'nps'
        and responses.score between 0 and 10
        and cast(responses.submitted_at as date) <= as_of.as_of_date
) as ranked
where recency_rank = 1
