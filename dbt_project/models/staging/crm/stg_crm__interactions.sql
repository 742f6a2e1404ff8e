-- One row per interaction (the latest load wins), typed.
with source as (

    {{ accepted_rows('crm', 'interactions') }}

),

typed as (

    select
        {{ contract_value('interactions', 'interaction_id') }} as interaction_id,
        {{ contract_value('interactions', 'customer_id') }} as customer_id,
        {{ contract_value('interactions', 'occurred_at') }} as occurred_at,
        lower({{ contract_value('interactions', 'interaction_type') }}) as interaction_type,
        lower({{ contract_value('interactions', 'status') }}) as interaction_status,
        {{ contract_value('interactions', 'subject') }} as subject,
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
