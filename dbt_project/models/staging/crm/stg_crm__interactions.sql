-- One row per interaction (the latest load wins), typed.
with source as (

    {{ accepted_rows('crm', 'interactions') }}

),

typed as (

    select
        trim(interaction_id) as interaction_id,
        trim(customer_id) as customer_id,
        {{ to_reporting_time('occurred_at') }} as occurred_at,
        nullif(lower(trim(interaction_type)), '') as interaction_type,
        nullif(lower(trim(status)), '') as interaction_status,
        nullif(trim(subject), '') as subject,
        {{ lineage_columns() }}
    from source

),

latest as (

    {{ latest_row('select * from typed', ['interaction_id'], '_loaded_at desc, _row_number desc') }}

)

select
    interaction_id,
    customer_id,
    occurred_at,
    interaction_type,
    interaction_status,
    subject,
    {{ lineage_columns(with_loaded_at=false) }}
from latest
