{#- The integers 0 .. 10^digits - 1 as a relation with one column `n`,
    built from cross joins of a ten-row values list so it runs on any
    warehouse (no generate_series). -#}
{% macro numbers(digits=4) -%}
    select
        {%- for d in range(digits) %}
        {{ '+ ' if not loop.first }}d{{ d }}.n * {{ 10 ** d }}
        {%- endfor %} as n
    from
        {%- for d in range(digits) %}
        {{ ', ' if not loop.first }}(values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as d{{ d }}(n)
        {%- endfor %}
{%- endmacro %}
