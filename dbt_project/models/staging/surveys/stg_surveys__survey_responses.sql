-- One row per survey response (the latest load wins), typed.
with source as (

    {{ accepted_rows('surveys', 'survey_responses') }}

),

typed as (

    select
        {{ contract_value('survey_responses', 'response_id') }} as response_id,
        {{ contract_value('survey_responses', 'customer_id') }} as customer_id,
        lower({{ contract_value('survey_responses', 'survey_type') }}) as survey_type,
        {{ contract_value('survey_responses', 'score') }} as score,
        {{ contract_value('survey_responses', 'submitted_at') }} as submitted_at,
        {{ contract_value('survey_responses', 'comment') }} as comment,
        {{ lineage_columns() }}
    from source

),

latest as (

    {{ latest_row('select * from typed', ['response_id'], '_loaded_at desc, _row_number desc') }}

)

select
    response_id,
    customer_id,
    survey_type,
    score,
    submitted_at,
    comment,
    {{ lineage_columns(with_loaded_at=false) }}
from latest
