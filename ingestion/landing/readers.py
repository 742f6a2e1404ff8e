"""DuckDB queries that read one landing file, with each row's 1-based position.

DuckDB's own readers do the parsing. Every value is read as text: raw keeps
what was received, and staging does the typing.
"""

from __future__ import annotations

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


def jsonl_select(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[str, list]:
    """Return a query over a JSON Lines file, every key read as text.

    The keys are discovered over the whole file first, so a key that appears
    only late in the file is kept, and a value of an unexpected type never
    fails the read (it arrives as text for the quality gates to judge).
    """
    keys = [
        row[0]
        for row in con.execute(
            "DESCRIBE SELECT * FROM read_json(?, format = 'newline_delimited', records = true, sample_size = -1)",
            [str(path)],
        ).fetchall()
    ]
    columns = "{" + ", ".join(f"'{k.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for k in keys) + "}"
    projection = ", ".join(quote_identifier(k) for k in keys)
    return (
        f"SELECT {projection}, row_number() OVER () AS _row_number "
        f"FROM read_json(?, format = 'newline_delimited', records = true, columns = {columns})",
        [str(path)],
    )
