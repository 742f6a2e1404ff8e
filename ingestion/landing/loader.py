"""Loading an entity's landing files into its raw table, each file version once."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.contract import Entity
from ingestion.landing.discovery import LandingFile, landing_files
from ingestion.landing.encoding import fingerprint, transcode_to_utf8
from ingestion.landing.readers import csv_select, jsonl_select, parquet_select
from ingestion.raw.manifest import (
    LoadRecord,
    ensure_manifest,
    loaded_versions,
    new_load_id,
    record_load,
    utc_now,
)
from ingestion.raw.tables import Lineage, append_to_raw, ensure_raw_table

FILES_SOURCE = "files"


class LoadError(RuntimeError):
    """A landing file that could not be loaded; the message names the file."""


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one landing file in a load."""

    relative_path: str
    status: str  # "loaded", "new_version" or "unchanged"
    rows: int
    file_version: int
    encoding: str | None
    note: str


@dataclass
class EntityLoad:
    """The outcome of loading one entity's landing folder."""

    entity: str
    files: list[FileOutcome] = field(default_factory=list)
    unknown_files: list[str] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        """Rows appended to raw by this load."""
        return sum(f.rows for f in self.files)

    @property
    def files_loaded(self) -> int:
        """Files (or new file versions) loaded by this load."""
        return sum(1 for f in self.files if f.status != "unchanged")


def load_landing_entity(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    entity: Entity,
    log: Callable[[str], None] = lambda _: None,
) -> EntityLoad:
    """Load every new file (or new version of a file) of an entity into its raw table."""
    ensure_manifest(con)
    ensure_raw_table(con, entity)
    files, unknown = landing_files(landing_dir, entity.name)
    result = EntityLoad(entity=entity.name, unknown_files=[p.relative_to(landing_dir).as_posix() for p in unknown])
    for path in result.unknown_files:
        log(f"skipped {path}: not a CSV, Parquet or JSON Lines file")
    for number, landing_file in enumerate(files, start=1):
        outcome = load_landing_file(con, entity, landing_file)
        result.files.append(outcome)
        log(f"[{number}/{len(files)}] {landing_file.relative_path}: {outcome.note}")
    return result


def load_landing_file(con: duckdb.DuckDBPyConnection, entity: Entity, landing_file: LandingFile) -> FileOutcome:
    """Load one file unless this exact content was loaded before; return what happened."""
    is_plain_csv = landing_file.file_format == "csv" and not landing_file.path.name.endswith(".gz")
    seen = fingerprint(landing_file.path, inspect_text=is_plain_csv)
    versions = loaded_versions(con, entity.name, landing_file.relative_path)
    if seen.sha256 in versions:
        version = versions[seen.sha256]
        return FileOutcome(landing_file.relative_path, "unchanged", 0, version, seen.encoding,
                           f"already loaded (version {version}), skipped")
    version = max(versions.values(), default=0) + 1
    with tempfile.TemporaryDirectory(prefix="retention-load-") as scratch:
        readable = landing_file.path
        if seen.encoding not in (None, "utf-8"):
            readable = Path(scratch) / "utf8.csv"
            transcode_to_utf8(landing_file.path, readable, seen.encoding)
        rows = append_file_version(con, entity, landing_file, readable, seen.sha256, seen.size, version)
    if version == 1:
        return FileOutcome(landing_file.relative_path, "loaded", rows, 1, seen.encoding, f"loaded {rows:,} rows")
    return FileOutcome(
        landing_file.relative_path, "new_version", rows, version, seen.encoding,
        f"content changed since version {version - 1}: loaded {rows:,} rows as version {version}",
    )


def append_file_version(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    landing_file: LandingFile,
    readable: Path,
    content_hash: str,
    size: int,
    version: int,
) -> int:
    """Append one file's rows and its manifest entry in a single transaction; return the row count."""
    if landing_file.file_format == "csv":
        select_sql, params = csv_select(readable)
    elif landing_file.file_format == "parquet":
        select_sql, params = parquet_select(readable)
    else:
        select_sql, params = jsonl_select(con, readable)
    lineage = Lineage(FILES_SOURCE, landing_file.relative_path, utc_now(), new_load_id())
    con.execute("BEGIN TRANSACTION")
    try:
        rows = append_to_raw(con, entity, select_sql, params, lineage)
        note = "new file" if version == 1 else f"new version {version} (content changed)"
        record_entry = LoadRecord(lineage.load_id, entity.name, FILES_SOURCE, landing_file.relative_path,
                                  content_hash, size, version, rows, lineage.loaded_at, note)
        record_load(con, record_entry)
        con.execute("COMMIT")
    except duckdb.Error as err:
        con.execute("ROLLBACK")
        raise LoadError(f"could not read {landing_file.relative_path} as {landing_file.file_format}: {err}") from None
    return rows
