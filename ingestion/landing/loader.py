"""Loading an entity's landing files into its raw table, each file version once."""

from __future__ import annotations

import difflib
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
from ingestion.raw.tables import Lineage, append_to_raw, ensure_raw_table, source_columns

FILES_SOURCE = "files"

# Called with (connection, entity, load id, file) after a file's rows are in raw
# and before they are committed; raising LoadError rolls the file back.
LoadGuard = Callable[[duckdb.DuckDBPyConnection, Entity, str, str], None]


class LoadError(RuntimeError):
    """A landing file that could not be loaded; the message names the file."""


def schema_drift(entity: Entity, columns: list[str]) -> tuple[list[str], list[str]]:
    """Return (contract columns missing, columns not in the contract) of a file's header."""
    missing = [c for c in entity.columns if c not in columns]
    unexpected = [c for c in columns if c not in entity.columns and c != "_row_number"]
    return missing, unexpected


def refuse_missing_required_columns(entity: Entity, source_name: str, columns: list[str]) -> None:
    """Raise LoadError when a file lacks a column the contract requires, suggesting a renamed one."""
    missing, unexpected = schema_drift(entity, columns)
    required = [c for c in missing if c in entity.required_columns]
    if not required:
        return
    problems = []
    for column in required:
        close = difflib.get_close_matches(column, unexpected, n=1, cutoff=0.5)
        hint = f" (renamed to {close[0]!r}?)" if close else ""
        problems.append(f"{column!r}{hint}")
    raise LoadError(
        f"{source_name}: no column{'s' if len(problems) > 1 else ''} {', '.join(problems)}, "
        f"which the {entity.name} contract requires; "
        f"the file has {', '.join(repr(c) for c in columns if c != '_row_number')}. "
        "Rename the header (or map the export onto the contract) and run again; nothing was loaded."
    )


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one landing file in a load."""

    relative_path: str
    status: str  # "loaded", "new_version" or "unchanged"
    rows: int
    file_version: int
    encoding: str | None
    note: str
    schema_drift: str = ""  # contract columns missing / extra columns, in words ("" when none)


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
    guard: LoadGuard | None = None,
) -> EntityLoad:
    """Load every new file (or new version of a file) of an entity into its raw table.

    `guard` may refuse a file after reading it (see LoadGuard); the error
    stops the load, and the files loaded before it stay loaded.
    """
    ensure_manifest(con)
    ensure_raw_table(con, entity)
    files, unknown = landing_files(landing_dir, entity.name)
    result = EntityLoad(entity=entity.name, unknown_files=[p.relative_to(landing_dir).as_posix() for p in unknown])
    for path in result.unknown_files:
        log(f"skipped {path}: not a CSV, Parquet or JSON Lines file")
    for number, landing_file in enumerate(files, start=1):
        outcome = load_landing_file(con, entity, landing_file, guard)
        result.files.append(outcome)
        log(f"[{number}/{len(files)}] {landing_file.relative_path}: {outcome.note}")
    return result


def load_landing_file(
    con: duckdb.DuckDBPyConnection, entity: Entity, landing_file: LandingFile, guard: LoadGuard | None = None,
) -> FileOutcome:
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
        transcoding = None
        if seen.needs_transcoding:
            readable = Path(scratch) / "utf8.csv"
            transcoding = transcode_to_utf8(landing_file.path, readable, seen.encoding)
        rows, drift = append_file_version(
            con, entity, landing_file, readable, FileVersion(seen.sha256, seen.size, version), guard)
    notes = [f"loaded {rows:,} rows" if version == 1
             else f"content changed since version {version - 1}: loaded {rows:,} rows as version {version}"]
    if transcoding and transcoding.replaced:
        notes.append(f"{transcoding.replaced:,} byte sequences valid in neither UTF-8 nor GB18030, the first on "
                     f"line {transcoding.first_line}, replaced by U+FFFD (their rows go to quarantine)")
    if drift:
        notes.append(drift)
    status = "loaded" if version == 1 else "new_version"
    return FileOutcome(landing_file.relative_path, status, rows, version, seen.encoding, "; ".join(notes), drift)


@dataclass(frozen=True)
class FileVersion:
    """The content a file had when it was read."""

    content_hash: str
    size: int
    version: int


def append_file_version(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    landing_file: LandingFile,
    readable: Path,
    file_version: FileVersion,
    guard: LoadGuard | None = None,
) -> tuple[int, str]:
    """Append one file's rows and its manifest entry in a single transaction.

    Returns the row count and a note on schema drift ("" when the header
    matches the contract). A file missing a required column, or refused by
    `guard`, is rolled back and raises LoadError.
    """
    if landing_file.file_format == "csv":
        select_sql, params = csv_select(readable)
    elif landing_file.file_format == "parquet":
        select_sql, params = parquet_select(readable)
    else:
        select_sql, params = jsonl_select(con, readable)
    lineage = Lineage(FILES_SOURCE, landing_file.relative_path, utc_now(), new_load_id())
    try:
        columns = source_columns(con, select_sql, params)
    except duckdb.Error as err:
        raise LoadError(f"could not read {landing_file.relative_path} as {landing_file.file_format}: {err}") from None
    refuse_missing_required_columns(entity, landing_file.relative_path, columns)
    missing, unexpected = schema_drift(entity, columns)
    drift = "; ".join(part for part in (
        f"columns missing (left empty): {', '.join(missing)}" if missing else "",
        f"columns not in the contract (kept in raw): {', '.join(unexpected)}" if unexpected else "",
    ) if part)
    con.execute("BEGIN TRANSACTION")
    try:
        rows = append_to_raw(con, entity, select_sql, params, lineage)
        if guard is not None:
            guard(con, entity, lineage.load_id, landing_file.relative_path)
        version = file_version.version
        note = "new file" if version == 1 else f"new version {version} (content changed)"
        if drift:
            note += f"; {drift}"
        record_entry = LoadRecord(lineage.load_id, entity.name, FILES_SOURCE, landing_file.relative_path,
                                  file_version.content_hash, file_version.size, version, rows, lineage.loaded_at,
                                  note)
        record_load(con, record_entry)
        con.execute("COMMIT")
    except duckdb.Error as err:
        con.execute("ROLLBACK")
        raise LoadError(f"could not read {landing_file.relative_path} as {landing_file.file_format}: {err}") from None
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return rows, drift
