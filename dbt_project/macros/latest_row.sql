{#- Deduplication used by every staging model: keep one row per key, the
    latest by the given ordering. The result still carries _dedup_rank (= 1);
    the model's final select lists its columns, which drops it. Written as a window in a subquery rather
    than QUALIFY so that it runs on any engine. -#}
{% macro latest_row(relation_sql, key_columns, order_by) -%}
    select *
    from (
        select
            deduplicated.*,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by {{ order_by }}
            ) as _dedup_rank
        from ({{ relation_sql }}) as deduplicated
    ) as ranked
    where _dedup_rank = 1
{%- endmacro %}
