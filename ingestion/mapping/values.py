"""Everyday value formats turned into the text the contract reads, in DuckDB SQL.

A mapped export writes `1/7/2023`, `05.01.2023 10:11`, `1.234,50` or
`¥12.00`; raw keeps, for each contract column, the value rewritten into the
contract's own text (an ISO timestamp, a plain decimal), so that the raw
rules and staging read every source alike. A value the declared formats do
not read stays exactly as received: the raw rules then quarantine it with
its file, row, column and value, instead of losing it to NULL.
"""

from __future__ import annotations

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


def number_text(value: str, formats: ValueFormats) -> str:
    """SQL: an amount or count as plain decimal text (currency signs, thousands separators, decimal comma undone).

    `(12.50)`, the accountants' negative, becomes -12.50 (and then fails the
    not-negative rule where the contract wants none).
    """
    text = f"nullif(trim(CAST({value} AS VARCHAR)), '')"
    cleaned = f"regexp_replace({text}, {sql_literal(CURRENCY_NOISE)}, '', 'g')"
    if formats.thousands_separator:
        cleaned = f"replace({cleaned}, {sql_literal(formats.thousands_separator)}, '')"
    if formats.decimal_separator == ",":
        cleaned = f"replace({cleaned}, ',', '.')"
    negative = f"regexp_replace({cleaned}, '^\\((.*)\\)$', '-\\1')"
    return f"coalesce(CASE WHEN regexp_matches({negative}, {sql_literal(PLAIN_NUMBER)}) THEN {negative} END, {text})"


def contract_text(value: str, kind: str, formats: ValueFormats) -> str:
    """SQL: a mapped value as the raw text of a contract column of type `kind`."""
    if kind == "timestamp":
        return timestamp_text(value, formats)
    if kind in ("decimal", "integer"):
        return number_text(value, formats)
    return f"CAST({value} AS VARCHAR)"
