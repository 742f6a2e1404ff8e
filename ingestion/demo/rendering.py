"""How staged columns become the source contract's columns: one SQL expression per column.

The simulation stages compact values (integer ids, cents, UTC timestamps
without zone, name parts); DuckDB renders them while writing:

- ids as prefixed, zero-padded text: C00000001, O000000001, I000000001,
  R000000001, P0001;
- amounts as DECIMAL(12,2) (text `12.30` in CSV, the number 12.30 in JSON Lines);
- timestamps as ISO-8601 UTC text with a trailing Z (`2024-03-01T12:34:56Z`) in
  CSV and JSON Lines, and as TIMESTAMP WITH TIME ZONE in Parquet (the writer's
  connection runs with TimeZone = UTC);
- names, e-mail addresses and phone numbers composed from their parts.

A staged column `_text_<column>` (added by `defects`) holds replacement text for
a few rows; where it is not NULL it wins over the rendered value. Only text
formats can carry it.
"""

from __future__ import annotations

from collections.abc import Iterable

from ingestion.contract import ENTITIES

OVERRIDE_PREFIX = "_text_"
TIMESTAMP_TEXT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

ID_FORMATS: dict[str, str] = {
    "customer_id": "C%08d",
    "order_id": "O%09d",
    "interaction_id": "I%09d",
    "response_id": "R%09d",
    "product_id": "P%04d",
}
MONEY_COLUMNS = frozenset({"order_discount", "order_total", "unit_price", "line_discount"})
TIMESTAMP_COLUMNS = frozenset({"created_at", "updated_at", "occurred_at", "ordered_at", "submitted_at"})

# Columns that are not a plain staged column of the same name.
_COMPOSED: dict[str, dict[str, str]] = {
    "customers": {
        "name": "CASE WHEN is_chinese THEN family_name || given_name ELSE given_name || ' ' || family_name END",
        # Chinese addresses run pinyin together (zhangwei88@163.com), English ones use a dot.
        "email": (
            "CASE WHEN is_chinese THEN lower(family_latin || given_latin) "
            "ELSE lower(given_latin || '.' || family_latin) END "
            "|| coalesce(CAST(email_tag AS VARCHAR), '') || '@' || email_domain"
        ),
        "phone": "printf(phone_format, phone_a, phone_b, phone_c)",
    },
}


def quote(name: str) -> str:
    """Quote an identifier for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def column_expression(entity: str, column: str, typed: bool) -> str:
    """The SQL expression that renders one contract column from the staged table.

    `typed` renders for Parquet (TIMESTAMPTZ timestamps); otherwise for text formats.
    """
    composed = _COMPOSED.get(entity, {})
    if column in composed:
        return composed[column]
    if column in ID_FORMATS:
        return f"printf('{ID_FORMATS[column]}', {quote(column)})"
    if column in MONEY_COLUMNS:
        # Cents to an exact decimal: DECIMAL * 0.01 stays DECIMAL (division would become DOUBLE).
        return f"CAST(CAST({quote(column)} AS DECIMAL(18, 0)) * 0.01 AS DECIMAL(12, 2))"
    if column in TIMESTAMP_COLUMNS:
        if typed:
            return f"CAST({quote(column)} AS TIMESTAMPTZ)"
        return f"strftime({quote(column)}, '{TIMESTAMP_TEXT_FORMAT}')"
    return quote(column)


def contract_select_list(entity: str, staged_columns: Iterable[str], typed: bool) -> str:
    """The SELECT list that renders a staged table as the entity's contract columns, in contract order."""
    staged = set(staged_columns)
    overrides = {c[len(OVERRIDE_PREFIX):] for c in staged if c.startswith(OVERRIDE_PREFIX)}
    if overrides and typed:
        raise ValueError(f"{entity}: replacement text for {sorted(overrides)} cannot be written to a typed format")
    items = []
    for column in ENTITIES[entity].columns:
        expression = column_expression(entity, column, typed)
        if column in overrides:
            override = quote(OVERRIDE_PREFIX + column)
            expression = f"coalesce({override}, CAST({expression} AS VARCHAR))"
        items.append(f"{expression} AS {quote(column)}")
    return ",\n       ".join(items)
