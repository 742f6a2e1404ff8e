"""High-water marks of incremental database extractions, kept in the warehouse.

A watermark is stored with its type so the next extraction binds a value of
the right type (a datetime stays a datetime), whatever the source dialect.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb

WATERMARK_TABLE = "raw._watermarks"


def ensure_watermarks(con: duckdb.DuckDBPyConnection) -> None:
    """Create the watermark table if it does not exist."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {WATERMARK_TABLE} (
            source VARCHAR NOT NULL,
            entity VARCHAR NOT NULL,
            source_object VARCHAR NOT NULL,
            watermark_column VARCHAR NOT NULL,
            watermark VARCHAR NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            PRIMARY KEY (source, entity, source_object)
        )
        """
    )


def encode_watermark(value: Any) -> str:
    """Return a watermark value as typed JSON text."""
    if isinstance(value, datetime):
        return json.dumps({"type": "datetime", "value": value.isoformat()})
    if isinstance(value, date):
        return json.dumps({"type": "date", "value": value.isoformat()})
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return json.dumps({"type": "str", "value": str(value)})
    if isinstance(value, Decimal):
        return json.dumps({"type": "decimal", "value": str(value)})
    return json.dumps({"type": type(value).__name__, "value": value})


def decode_watermark(text: str) -> Any:
    """Return the typed value of a stored watermark."""
    stored = json.loads(text)
    kind, value = stored["type"], stored["value"]
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "decimal":
        return Decimal(value)
    return value


def current_watermark(con: duckdb.DuckDBPyConnection, source: str, entity: str, source_object: str) -> Any | None:
    """Return the last watermark of an extraction, or None before the first one."""
    row = con.execute(
        f"SELECT watermark FROM {WATERMARK_TABLE} WHERE source = ? AND entity = ? AND source_object = ?",
        [source, entity, source_object],
    ).fetchone()
    return decode_watermark(row[0]) if row else None


def save_watermark(
    con: duckdb.DuckDBPyConnection, source: str, entity: str, source_object: str, column: str, value: Any,
    updated_at: datetime,
) -> None:
    """Store the new watermark of an extraction."""
    con.execute(
        f"INSERT OR REPLACE INTO {WATERMARK_TABLE} VALUES (?, ?, ?, ?, ?, ?)",
        [source, entity, source_object, column, encode_watermark(value), updated_at],
    )
