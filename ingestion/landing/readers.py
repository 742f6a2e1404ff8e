"""DuckDB queries that read one landing file, with each row's 1-based position.

DuckDB's own readers do the parsing. Every value is read as text: raw keeps
what was received, and staging does the typing.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from ingestion.raw.tables import quote_identifier


def csv_select(path: Path) -> tuple[str, list]:
    """Return a query over a UTF-8 CSV file (delimiter sniffed, header required)."""
    # DuckDB streams `row_number() OVER ()` in file order (a Streaming Window),
    # which is what makes _row_number the file's data-row number.
    return (
        "SELECT *, row_number() OVER () AS _row_number "
        "FROM read_csv(?, header = true, all_varchar = true)",
        [str(path)],
    )


def parquet_select(path: Path) -> tuple[str, list]:
    """Return a query over a Parquet file."""
    return (
        "SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _row_number "
        "FROM read_parquet(?, file_row_number = true)",
        [str(path)],
    )


# Lines as whole strings: a two-byte delimiter no JSON text contains, no quoting, blank lines kept (as NULL),
# so the row number is the line number. Long lines are fine up to 64 MiB.
LINES_READER = ("read_csv(?, columns = {'line': 'VARCHAR'}, header = false, delim = '\x1f\x1e', quote = '', "
          "escape = '', auto_detect = false, strict_mode = false, max_line_size = 67108864)")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def jsonl_select(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[str, list]:
    """Return a query over a JSON Lines file, one row per non-blank line, every key read as text.

    Each line is parsed on its own, so one malformed line costs that line,
    not the file: it arrives as a row with every column empty and
    `_parse_error` saying what is wrong (not JSON, or JSON but not an object;
    never the line's text, which may hold contact details), and the raw rules
    quarantine it with its line number. The keys are
    discovered over the whole file first, so a key that appears only late is
    kept, and a value of an unexpected type never fails the read (nested
    values arrive as their JSON text).
    """
    parsed = f"SELECT row_number() OVER () AS _row_number, line, try(json(line)) AS record FROM {LINES_READER}"
    keys = [key for (key,) in con.execute(
        f"SELECT DISTINCT unnest(json_keys(record)) FROM ({parsed}) AS lines "
        "WHERE json_type(record) = 'OBJECT' ORDER BY 1", [str(path)]).fetchall()]
    schema = _literal(json.dumps({key: "VARCHAR" for key in keys}))
    projection = "".join(f"struct_extract(fields, {_literal(key)}) AS {quote_identifier(key)}, " for key in keys)
    return (
        f"SELECT {projection}_row_number, "
        "CASE WHEN record IS NULL THEN 'line ' || _row_number || ' is not valid JSON' "
        "WHEN json_type(record) <> 'OBJECT' THEN 'line ' || _row_number || ' is a JSON ' "
        "|| lower(json_type(record)) || ', not an object' END AS _parse_error, "
        "CASE WHEN record IS NULL OR json_type(record) <> 'OBJECT' THEN line END AS _unparsed_line "
        f"FROM (SELECT *, CASE WHEN json_type(record) = 'OBJECT' THEN try(from_json(record, {schema})) END AS fields "
        f"FROM ({parsed}) AS lines WHERE nullif(trim(line), '') IS NOT NULL) AS records",
        [str(path)],
    )
