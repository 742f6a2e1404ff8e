-- One row per survey response (the latest load wins), typed.
with source as (

    {{ accepted_rows('surveys', 'survey_responses') }}

),

typed as (

    select
        trim(response_id) as response_id,
        trim(customer_id) as customer_id,
        lower(trim(survey_type)) as survey_type,
        {{ dbt.safe_cast('score', 'integer') }} as score,
        {{ to_reporting_time('submitted_at') }} as submitted_at,
        nullif(trim(comment), '') as comment,
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
