{#- Layers are schemas of their own (staging, intermediate, marts), named as
    written rather than prefixed with the target schema, so that analysts and
    BI tools query marts.customer_rfm whatever the target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
