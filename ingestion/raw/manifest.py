"""The load manifest: one row per loaded file version or database extraction.

It is what makes loading idempotent: a landing file whose content hash was
loaded before is skipped; a file that keeps its name but changes content is
loaded again as a new version, and the manifest says so.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb

MANIFEST_TABLE = "raw._load_manifest"


@dataclass(frozen=True)
class LoadRecord:
    """One entry of the manifest."""

    load_id: str
    entity: str
    source: str
    source_file: str
    content_hash: str | None
    file_size: int | None
    file_version: int
    rows_loaded: int
    loaded_at: datetime
    note: str


def ensure_manifest(con: duckdb.DuckDBPyConnection) -> None:
    """Create the manifest table if it does not exist."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {MANIFEST_TABLE} (
            load_id VARCHAR PRIMARY KEY,
            entity VARCHAR NOT NULL,
            source VARCHAR NOT NULL,
            source_file VARCHAR NOT NULL,
            content_hash VARCHAR,
            file_size BIGINT,
            file_version INTEGER NOT NULL,
            rows_loaded BIGINT NOT NULL,
            loaded_at TIMESTAMP NOT NULL,
            note VARCHAR
        )
        """
    )


def new_load_id() -> str:
    """Return a fresh, unique load id."""
    return uuid.uuid4().hex


def utc_now() -> datetime:
    """Return the current UTC time without tzinfo (DuckDB TIMESTAMP semantics)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def loaded_versions(con: duckdb.DuckDBPyConnection, entity: str, source_file: str) -> dict[str, int]:
    """Return {content_hash: file_version} of the versions of a file already loaded."""
    rows = con.execute(
        f"SELECT content_hash, file_version FROM {MANIFEST_TABLE} "
        "WHERE entity = ? AND source_file = ? AND content_hash IS NOT NULL",
        [entity, source_file],
    ).fetchall()
    return {content_hash: version for content_hash, version in rows}


def loaded_hashes(con: duckdb.DuckDBPyConnection, entity: str) -> set[tuple[str, str]]:
    """Return the (source_file, content_hash) pairs already loaded for an entity."""
    rows = con.execute(
        f"SELECT source_file, content_hash FROM {MANIFEST_TABLE} WHERE entity = ? AND content_hash IS NOT NULL",
        [entity],
    ).fetchall()
    return {(f, h) for f, h in rows}


def record_load(con: duckdb.DuckDBPyConnection, record: LoadRecord) -> None:
    """Add one entry to the manifest."""
    con.execute(
        f"INSERT INTO {MANIFEST_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            record.load_id, record.entity, record.source, record.source_file, record.content_hash,
            record.file_size, record.file_version, record.rows_loaded, record.loaded_at, record.note,
        ],
    )
