"""Everyday value formats turned into the text the contract reads, in DuckDB SQL.

A mapped export writes `1/7/2023`, `05.01.2023 10:11`, `1.234,50` or
`¥12.00`; raw keeps, for each contract column, the value rewritten into the
contract's own text (an ISO timestamp, a plain decimal), so that the raw
rules and staging read every source alike. A value the declared formats do
not read stays exactly as received: the raw rules then quarantine it with
its file, row, column and value, instead of losing it to NULL.
"""

from __future__ import annotations

import re

from ingestion.contract import dbt_vars
from ingestion.mapping.spec import ValueFormats

# Every currency sign (Unicode category Sc: $ € £ ¥ ₩ ₹ ...), the ISO codes commonly written beside
# amounts, and blanks (no-break spaces included): none is part of a number.
CURRENCY_NOISE = r"(?i)\p{Sc}|USD|EUR|GBP|CNY|RMB|JPY|HKD|TWD|SGD|AUD|CAD|CHF|BRL|R|元|\s"
PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def sql_literal(text: str) -> str:
    """`text` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _format_list(formats: list[str]) -> str:
    return "[" + ", ".join(sql_literal(f) for f in formats) + "]"


def timestamp_text(value: str, formats: ValueFormats) -> str:
    """SQL: a timestamp as ISO text: the instant in UTC (`...Z`) where it is known, else naive.

    Text that names its own zone (dbt var source_zone_pattern) is read as
    staging reads it. Otherwise the declared formats are tried first (those
    with %z read their own offset), then ISO; a naive value is read in the
    source's `time_zone` when one is set, else left naive (staging reads it
    in var source_time_zone). One spelling per instant, so that `min()` over
    the text (a customer's first order) is the earliest instant. Text nothing
    reads goes on as received, for the raw rules to name.
    """
    text = f"nullif(trim(CAST({value} AS VARCHAR)), '')"
    project = dbt_vars()
    naive = [f for f in formats.timestamp_formats if "%z" not in f and "%Z" not in f]
    zoned = [f for f in formats.timestamp_formats if f not in naive]
    naive_parse = f"try_cast({text} AS TIMESTAMP)"
    if naive:
        naive_parse = f"coalesce(try_strptime({text}, {_format_list(naive)}), {naive_parse})"
    if formats.time_zone:
        zone = sql_literal(formats.time_zone)
        from_naive = f"strftime(timezone('UTC', timezone({zone}, {naive_parse})), '%Y-%m-%dT%H:%M:%S.%fZ')"
    else:
        from_naive = f"strftime({naive_parse}, '%Y-%m-%d %H:%M:%S.%f')"
    from_zoned = "CAST(NULL AS VARCHAR)"
    if zoned:
        from_zoned = f"strftime(timezone('UTC', try_strptime({text}, {_format_list(zoned)})), '%Y-%m-%dT%H:%M:%S.%fZ')"
    own_zone = (f"strftime(timezone('UTC', try_cast(regexp_replace({text}, "
                f"{sql_literal(project['source_offset_gap'])}, '\\1') AS TIMESTAMPTZ)), '%Y-%m-%dT%H:%M:%S.%fZ')")
    zone_pattern = sql_literal(project["source_zone_pattern"])
    # Text naming a zone is never read as naive (that would drop its offset).
    return (f"coalesce(CASE WHEN regexp_matches({text}, {zone_pattern}) THEN coalesce({own_zone}, {from_zoned}) "
            f"ELSE coalesce({from_zoned}, {from_naive}) END, {text})")


def number_text(value: str, formats: ValueFormats, typed_export: bool = False) -> str:
    """SQL: an amount or count as plain decimal text (currency signs, separators and decimal comma undone).

    Only a value written in the declared local form (`1.234,50`, `1,234.50`)
    is rewritten; any other goes on as it is, so `12.5` under a decimal comma
    stays 12.5. In a typed export (Excel, Parquet, JSON Lines) numbers are
    numbers already: there, only text holding a comma (or a separator other
    than the point) is rewritten.
    `(12.50)`, the accountants' negative, becomes -12.50 (and then fails the
    not-negative rule where the contract wants none).
    """
    text = f"nullif(trim(CAST({value} AS VARCHAR)), '')"
    cleaned = f"regexp_replace({text}, {sql_literal(CURRENCY_NOISE)}, '', 'g')"
    signed = f"regexp_replace({cleaned}, '^\\((.*)\\)$', '-\\1')"
    thousands, decimal = formats.thousands_separator, formats.decimal_separator
    grouped = f"\\d{{1,3}}({re.escape(thousands)}\\d{{3}})+|" if thousands else ""
    local = f"^[+-]?({grouped}\\d+)({re.escape(decimal)}\\d+)?$"
    plain = signed
    if thousands:
        plain = f"replace({plain}, {sql_literal(thousands)}, '')"
    if decimal == ",":
        plain = f"replace({plain}, ',', '.')"
    rewrite = f"regexp_matches({signed}, {sql_literal(local)})"
    if typed_export:
        # A number the export typed is written with a plain point: only text with a comma (or another
        # separator that is not a point) was written in the local form.
        marks = [mark for mark in {",", thousands} if mark and mark != "."]
        rewrite += (" AND (" + " OR ".join(f"contains({signed}, {sql_literal(m)})" for m in sorted(marks)) + ")"
                    if marks else " AND false")
    number = f"CASE WHEN {rewrite} THEN {plain} ELSE {signed} END"
    return f"coalesce(CASE WHEN regexp_matches({number}, {sql_literal(PLAIN_NUMBER)}) THEN {number} END, {text})"


def contract_text(value: str, kind: str, formats: ValueFormats, typed_export: bool = False) -> str:
    """SQL: a mapped value as the raw text of a contract column of type `kind` (see number_text on typed exports)."""
    if kind == "timestamp":
        return timestamp_text(value, formats)
    if kind in ("decimal", "integer"):
        return number_text(value, formats, typed_export)
    return f"CAST({value} AS VARCHAR)"
