-- One row per customer: the latest version by updated_at (then the latest
-- load and row, so a re-sent export wins over an older one). Contact details
-- leave staging only as keyed pseudonyms (macro pii_hash).
with source as (

    {{ accepted_rows('crm', 'customers') }}

),

typed as (

    select
        {{ contract_value('customers', 'customer_id') }} as customer_id,
        {{ contract_value('customers', 'name') }} as customer_name,
        {{ pii_hash('email', 'email') }} as email_hash,
        {{ pii_hash('phone', 'phone') }} as phone_hash,
        {{ contract_value('customers', 'company') }} as company,
        {{ contract_value('customers', 'industry') }} as industry,
        {{ contract_value('customers', 'country') }} as country,
        {{ contract_value('customers', 'city') }} as city,
        lower({{ contract_value('customers', 'acquisition_channel') }}) as acquisition_channel,
        {{ contract_value('customers', 'account_owner') }} as account_owner,
        {{ contract_value('customers', 'created_at') }} as created_at,
        {{ contract_value('customers', 'updated_at') }} as updated_at,
        {{ lineage_columns() }}
    from source

),

latest as (

    {{ latest_row('select * from typed', ['customer_id'],
                  'updated_at desc nulls last, _loaded_at desc, _row_number desc') }}

)

select
    customer_id,
    customer_name,
    email_hash,
    phone_hash,
    company,
    industry,
    country,
    city,
    acquisition_channel,
    account_owner,
    created_at,
    updated_at,
    {{ lineage_columns(with_loaded_at=false) }}
from latest
