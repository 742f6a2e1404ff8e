"""The load manifest: one row per loaded file version or database extraction.

It is what makes loading idempotent: a landing file whose content hash was
loaded before is skipped; a file that keeps its name but changes content is
loaded again as a new version, and the manifest says so.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

MANIFEST_TABLE = "raw._load_manifest"
# The loads whose rows count: every database extraction, and of each landing file only its latest version
# (a file sent again with other content replaces what it said before, so rows it no longer has go).
CURRENT_LOADS_VIEW = "raw._current_loads"
FILES_SOURCE = "files"


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
    # A mapped export: contract column -> the export column or expression that fed it (JSON); "" otherwise.
    mapped_from: str = ""
    # SHA-256 of the file's bytes. For a contract file it is content_hash; a mapped export's content_hash
    # also covers its mapping (ingestion/landing/loader.py combined_hash). The sensor compares this one.
    file_sha256: str = ""
    # The file's signature when it was last hashed (ingestion/landing/discovery.py file_signature): while
    # the file keeps it, a run knows its content without reading it again.
    file_signature: str = ""


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
    # Manifests written before mapped exports existed get the column now.
    con.execute(f"ALTER TABLE {MANIFEST_TABLE} ADD COLUMN IF NOT EXISTS mapped_from VARCHAR")
    con.execute(f"ALTER TABLE {MANIFEST_TABLE} ADD COLUMN IF NOT EXISTS file_sha256 VARCHAR")
    con.execute(f"ALTER TABLE {MANIFEST_TABLE} ADD COLUMN IF NOT EXISTS file_signature VARCHAR")
    con.execute(
        f"""
        CREATE OR REPLACE VIEW {CURRENT_LOADS_VIEW} AS
        SELECT load_id, entity FROM (
            SELECT load_id, entity, source, file_version,
                   max(file_version) OVER (PARTITION BY entity, source, source_file) AS latest_version
            FROM {MANIFEST_TABLE}
        ) AS loads
        WHERE source <> '{FILES_SOURCE}' OR file_version = latest_version
        """
    )


def new_load_id() -> str:
    """Return a fresh, unique load id."""
    return uuid.uuid4().hex


def utc_now() -> datetime:
    """Return the current UTC time without tzinfo (DuckDB TIMESTAMP semantics)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def manifest_loads(warehouse: Path) -> list[tuple[str, str, str | None]]:
    """(source, source file, content hash) of every load recorded in a warehouse file; [] when it has none.

    Opens the file read-only: only for a process that holds the warehouse (a run), never for readers.
    """
    if not warehouse.exists():
        return []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' "
                             "AND table_name = '_load_manifest'").fetchone()[0]
        if not exists:
            return []
        return con.execute(f"SELECT source, source_file, content_hash FROM {MANIFEST_TABLE}").fetchall()


def mapped_origins(con: duckdb.DuckDBPyConnection, load_id: str) -> dict[str, str]:
    """Contract column -> export column (or expression) of a mapped export's load; {} for a contract file."""
    row = con.execute(f"SELECT mapped_from FROM {MANIFEST_TABLE} WHERE load_id = ?", [load_id]).fetchone()
    return json.loads(row[0]) if row and row[0] else {}


def loaded_versions(con: duckdb.DuckDBPyConnection, entity: str, source_file: str) -> list[tuple[int, str, str]]:
    """Return [(file_version, content_hash, file_signature)] of a landing file's loaded versions, oldest first.

    The signature is "" where none was recorded (a manifest entry from before signatures were kept).
    """
    return con.execute(
        f"SELECT file_version, content_hash, coalesce(file_signature, '') FROM {MANIFEST_TABLE} "
        f"WHERE entity = ? AND source = '{FILES_SOURCE}' AND source_file = ? ORDER BY file_version",
        [entity, source_file],
    ).fetchall()


def remember_signature(con: duckdb.DuckDBPyConnection, entity: str, source_file: str, file_version: int,
                       signature: str) -> None:
    """Record that the file, now with `signature`, still holds the content of its loaded `file_version`."""
    con.execute(
        f"UPDATE {MANIFEST_TABLE} SET file_signature = ? "
        f"WHERE entity = ? AND source = '{FILES_SOURCE}' AND source_file = ? AND file_version = ?",
        [signature, entity, source_file, file_version],
    )


@dataclass(frozen=True)
class LoadedFile:
    """A landing file as the manifest knows it: its latest version and the rows that version brought."""

    source_file: str
    file_version: int
    rows_loaded: int
    loaded_at: datetime


def loaded_files(con: duckdb.DuckDBPyConnection, entity: str) -> list[LoadedFile]:
    """The landing files loaded for an entity, each with its latest version."""
    rows = con.execute(
        f"SELECT source_file, arg_max(file_version, file_version), arg_max(rows_loaded, file_version), "
        f"arg_max(loaded_at, file_version) FROM {MANIFEST_TABLE} WHERE entity = ? AND source = '{FILES_SOURCE}' "
        "GROUP BY source_file ORDER BY source_file",
        [entity],
    ).fetchall()
    return [LoadedFile(*row) for row in rows]


def record_load(con: duckdb.DuckDBPyConnection, record: LoadRecord) -> None:
    """Add one entry to the manifest."""
    con.execute(
        f"INSERT INTO {MANIFEST_TABLE} (load_id, entity, source, source_file, content_hash, file_size, "
        "file_version, rows_loaded, loaded_at, note, mapped_from, file_sha256, file_signature) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            record.load_id, record.entity, record.source, record.source_file, record.content_hash,
            record.file_size, record.file_version, record.rows_loaded, record.loaded_at, record.note,
            record.mapped_from or None, record.file_sha256 or record.content_hash, record.file_signature or None,
        ],
    )


def landed_contents(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Landing path -> the SHA-256 of the bytes its latest loaded version had (one per entity it feeds).

    What the new-file sensor compares a landing file with: content listed here
    has been loaded, so it needs no run.
    """
    exists = con.execute("SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'raw' "
                         "AND table_name = '_load_manifest' AND column_name = 'file_sha256'").fetchone()[0]
    sha = "coalesce(file_sha256, content_hash)" if exists else "content_hash"
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' "
                       "AND table_name = '_load_manifest'").fetchone()[0]:
        return {}
    rows = con.execute(
        f"SELECT source_file, list(DISTINCT sha ORDER BY sha) FROM ("
        f"  SELECT source_file, arg_max({sha}, file_version) AS sha "
        f"  FROM {MANIFEST_TABLE} WHERE source = '{FILES_SOURCE}' GROUP BY entity, source_file"
        ") AS latest GROUP BY source_file ORDER BY source_file"
    ).fetchall()
    return {path: list(shas) for path, shas in rows}
