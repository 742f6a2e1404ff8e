-- The reporting currency (one row): var('reporting_currency') when set, otherwise the one
-- currency every order is in (XXX, ISO's "no currency", when no order names one). Orders
-- without a currency are taken to be in it. Orders in
-- several currencies without a set one stop the build: rates convert into a currency, and
-- which one is the user's decision.
{% set configured = var('reporting_currency') %}

{% if configured %}
select
    cast('{{ configured | upper }}' as {{ dbt.type_string() }}) as reporting_currency,
    cast('set' as {{ dbt.type_string() }}) as chosen_by
{% else %}
with currencies as (

    select
        count(distinct currency) as currency_count,
        min(currency) as only_currency,
        {{ dbt.listagg('distinct currency', "', '", 'order by currency') }} as currencies
    from {{ ref('stg_orders__orders') }}
    where currency is not null

)

select
    case
        when currency_count > 1 then {{ raise_error(
            "'the orders are in ' || currencies || ' and no reporting currency is set: set "
            ~ "RETENTION_REPORTING_CURRENCY (or retention run --currency) to one of them and give the others "
            ~ "a rate in dbt_project/seeds/fx_rates.csv'"
        ) }}
        -- XXX is ISO 4217's code for "no currency": no order names one, and none is set.
        else coalesce(only_currency, 'XXX')
    end as reporting_currency,
    cast(
        case when currency_count = 0 then 'no order names a currency: XXX, until RETENTION_REPORTING_CURRENCY names it'
             else 'the one currency of all orders' end
        as {{ dbt.type_string() }}
    ) as chosen_by
from currencies
{% endif %}
