"""Loading an entity's landing files into its raw table, each file version once.

What a load says about every file, in words (and in the asset's metadata):

- a new file, or a file whose content changed, is loaded as that file's next
  version; it replaces what the file said before (a row the new version no
  longer has is gone from staging). A file whose content returns to an
  earlier version is that file's newest version again, the same way;
- an unchanged file is skipped;
- an empty file (0 bytes, or only blank lines, also once decompressed) is
  skipped with a warning, and read again once it has content; an empty file
  is more often one being written than a withdrawal, so a file's last loaded
  version stays (`retention forget` removes it on purpose);
- a file the loader cannot read (not CSV, Parquet or JSON Lines: an Excel
  workbook, say) is skipped with a warning that says what to do;
- a file loaded before that is no longer in the landing directory keeps its
  rows, and the load warns and says how to remove them on purpose
  (`retention forget`);
- an encoding that was only a guess is named, with the way to set it.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb

from ingestion.contract import Entity
from ingestion.landing.discovery import LandingFile, file_signature, is_hidden, landing_files
from ingestion.landing.encoding import fingerprint, open_bytes, transcode_to_utf8
from ingestion.landing.options import FileOptions, options_for
from ingestion.landing.readers import csv_select, jsonl_select, parquet_select
from ingestion.mapping.select import TYPED_FORMATS, MappingError, entity_select, export_format, export_select
from ingestion.mapping.spec import MappedSource, mapping_fingerprint
from ingestion.pii import PSEUDONYM_MACRO, key_fingerprint
from ingestion.raw.manifest import (
    FILES_SOURCE,
    LoadRecord,
    ensure_manifest,
    loaded_files,
    loaded_versions,
    new_load_id,
    record_load,
    remember_signature,
    utc_now,
)
from ingestion.raw.tables import (
    LINEAGE_COLUMNS,
    SOURCE_STATUSES_TABLE,
    Lineage,
    append_to_raw,
    ensure_raw_table,
    source_columns,
)
from ingestion.sources_file import SourcesConfigError

# Called with (connection, entity, load id, file) after a file's rows are in raw
# and before they are committed; raising LoadError rolls the file back.
LoadGuard = Callable[[duckdb.DuckDBPyConnection, Entity, str, str], None]
# What to do with a file the loader cannot read, by suffix.
UNREADABLE_HINTS = {
    ".xlsx": "an Excel workbook: map it in the sources file (files: <name>: {glob: ..., format: excel, entities: "
             "...}; README, Load your own exports), or save the sheet as CSV into this folder",
    ".xls": "an Excel workbook: map it in the sources file (files: <name>: {glob: ..., format: excel, entities: "
            "...}; README, Load your own exports), or save the sheet as CSV into this folder",
    ".json": "a JSON document: write one JSON object per line and name the file .jsonl",
    ".txt": "a text file: if it is comma- or tab-separated, name it .csv or .tsv",
}
EMPTY_SNIFF_BYTES = 64 * 1024


class LoadError(RuntimeError):
    """A landing file that could not be loaded; the message names the file."""


def schema_drift(entity: Entity, columns: list[str]) -> tuple[list[str], list[str]]:
    """Return (contract columns missing, columns not in the contract) of a file's header."""
    missing = [c for c in entity.columns if c not in columns]
    unexpected = [c for c in columns if c not in entity.columns and c not in LINEAGE_COLUMNS]
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
    shown = [c for c in columns if c not in LINEAGE_COLUMNS]
    has = f"the file has {', '.join(repr(c) for c in shown)}" if shown else "the file has no columns at all"
    raise LoadError(
        f"{source_name}: no column{'s' if len(problems) > 1 else ''} {', '.join(problems)}, "
        f"which the {entity.name} contract requires; {has}. "
        "Rename the header (or map the export onto the contract) and run again; nothing was loaded."
    )


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one landing file in a load."""

    relative_path: str
    status: str  # "loaded", "new_version", "unchanged" or "empty"
    rows: int
    file_version: int
    encoding: str | None
    note: str
    schema_drift: str = ""  # contract columns missing / extra columns, in words ("" when none)
    warning: str = ""  # what the run log must say about the file ("" when nothing)
    mapped_from: dict[str, str] = field(default_factory=dict)  # mapped export: contract column -> its origin


@dataclass
class EntityLoad:
    """The outcome of loading one entity's landing folder."""

    entity: str
    files: list[FileOutcome] = field(default_factory=list)
    unknown_files: list[str] = field(default_factory=list)
    gone_files: list[str] = field(default_factory=list)  # loaded before, no longer in the landing dir
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        """Rows appended to raw by this load."""
        return sum(f.rows for f in self.files)

    @property
    def files_loaded(self) -> int:
        """Files (or new file versions) loaded by this load."""
        return sum(1 for f in self.files if f.status in ("loaded", "new_version"))


def unreadable_warning(relative_path: str) -> str:
    """Why a file in an entity folder was not loaded, and what to do."""
    hint = UNREADABLE_HINTS.get(Path(relative_path).suffix.lower(), "give it a .csv, .tsv, .parquet or .jsonl name")
    return f"{relative_path}: not loaded, it is not a CSV, Parquet or JSON Lines file ({hint})"


def gone_warning(entity: Entity, source_file: str, version: int, rows: int, loaded_at) -> str:
    """What a load says of a file it loaded before and no longer finds."""
    return (f"{source_file} is no longer in the landing directory: its {rows:,} rows (version {version}, loaded "
            f"{loaded_at:%Y-%m-%d %H:%M} UTC) stay in the warehouse and in the marts. To remove them on purpose: "
            f"retention forget {source_file}")


def load_landing_entity(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    entity: Entity,
    log: Callable[[str], None] = lambda _: None,
    guard: LoadGuard | None = None,
    options: list[FileOptions] | None = None,
    warn: Callable[[str], None] | None = None,
    mapped: list[MappedSource] | None = None,
) -> EntityLoad:
    """Load every new file (or new version of a file) of an entity into its raw table.

    `guard` may refuse a file after reading it (see LoadGuard); the error
    stops the load, and the files loaded before it stay loaded. `options`
    are the sources file's `files:` entries; `mapped` its mapped sources
    (ingestion/mapping), whose exports are loaded here for every entity
    they feed; `warn` hears what needs a person's attention (default: `log`).
    """
    warn = warn or log
    mapped = mapped or []
    ensure_manifest(con)
    ensure_raw_table(con, entity)
    folder_files, unknown = landing_files(landing_dir, entity.name)
    # A file a mapped source claims is that source's export, not a contract file of the folder.
    claimed = {f.relative_path for source in mapped for f in mapped_files(landing_dir, source)}
    files = [(f, None) for f in folder_files if f.relative_path not in claimed]
    feeding = [(f, source) for source in mapped if entity.name in source.entities
               for f in mapped_files(landing_dir, source)]
    refuse_double_claims(entity, feeding)
    files += feeding
    result = EntityLoad(entity=entity.name, unknown_files=[p.relative_to(landing_dir).as_posix() for p in unknown])

    def warning(message: str) -> None:
        # Said at once: a file refused later in the loop must not swallow what was found before it.
        result.warnings.append(message)
        warn(message)

    for path in result.unknown_files:
        warning(unreadable_warning(path))
    present = {f.relative_path for f, _ in files}
    for loaded in loaded_files(con, entity.name):
        if loaded.source_file not in present:
            result.gone_files.append(loaded.source_file)
            warning(gone_warning(entity, loaded.source_file, loaded.file_version, loaded.rows_loaded,
                                 loaded.loaded_at))
    if entity.name == "orders":
        record_source_statuses(con, [(f.relative_path, source) for f, source in files if source is not None])
    for number, (landing_file, source) in enumerate(files, start=1):
        file_options = options_for(options or [], landing_file.relative_path)
        if source is not None:
            file_options = FileOptions(source.name, source.glob, source.read.encoding)
        outcome = load_landing_file(con, entity, landing_file, guard, file_options, source, landing_dir)
        result.files.append(outcome)
        log(f"[{number}/{len(files)}] {landing_file.relative_path}: {outcome.note}")
        if outcome.warning:
            warning(outcome.warning)
    return result


def refuse_double_claims(entity: Entity, feeding: list[tuple[LandingFile, MappedSource]]) -> None:
    """Raise SourcesConfigError when two mapped sources would load one file into the same entity."""
    claims: dict[str, str] = {}
    for landing_file, source in feeding:
        other = claims.setdefault(landing_file.relative_path, source.name)
        if other != source.name:
            raise SourcesConfigError(
                f"{landing_file.relative_path} is claimed by files.{other} and files.{source.name}, which both feed "
                f"{entity.name}: narrow one of their globs so that each export has one mapping")


def record_source_statuses(con: duckdb.DuckDBPyConnection, files: list[tuple[str, MappedSource]]) -> None:
    """Write the status words of the mapped sources, per file they claim (the sources file is their one home).

    The words of files no longer in the landing directory stay: their rows stay in raw, and keep their meaning.
    """
    rows = [(path, word, status) for path, source in files for word, status in source.statuses.items()]
    con.execute(f"DELETE FROM {SOURCE_STATUSES_TABLE} WHERE list_contains(?, source_file)", [[p for p, _ in files]])
    if rows:
        con.executemany(f"INSERT INTO {SOURCE_STATUSES_TABLE} VALUES (?, ?, ?)", rows)


def mapped_files(landing_dir: Path, source: MappedSource) -> list[LandingFile]:
    """The exports a mapped source's glob matches (sorted; private `.x` and `_x` files left out)."""
    found = []
    for path in sorted(p for p in landing_dir.glob(source.glob) if p.is_file()):
        relative = path.relative_to(landing_dir).as_posix()
        fmt = export_format(source, path)
        if fmt is not None and not is_hidden(path, landing_dir):
            found.append(LandingFile(path, relative, fmt))
    return found


def is_empty(path: Path) -> bool:
    """Whether a file holds nothing but whitespace (0 bytes included, also once decompressed).

    Only small files are read to tell.
    """
    size = path.stat().st_size
    if size == 0:
        return True
    if size > EMPTY_SNIFF_BYTES:
        return False
    try:
        with open_bytes(path) as handle:
            return not handle.read(EMPTY_SNIFF_BYTES).strip()
    except (OSError, EOFError):
        return False  # not what its name says: the reader will say so


def load_landing_file(
    con: duckdb.DuckDBPyConnection, entity: Entity, landing_file: LandingFile, guard: LoadGuard | None = None,
    options: FileOptions | None = None, source: MappedSource | None = None, landing_dir: Path | None = None,
) -> FileOutcome:
    """Load one file unless its content is what the file's latest version already holds; return what happened.

    A mapped export (`source`) is read through its mapping; its version is
    that of its content together with its lookup files' (a changed lookup
    changes the mapped rows).
    """
    path = landing_file.relative_path
    versions = loaded_versions(con, entity.name, path)
    if is_empty(landing_file.path):
        kept = f"; its last version ({versions[-1][0]}) stays" if versions else ""
        return FileOutcome(path, "empty", 0, versions[-1][0] if versions else 0, None, "empty file, skipped",
                           warning=f"{path}: the file is empty, so nothing was loaded{kept}; it is read again once "
                                   "it has content")
    # Taken before the file is read: a write while it is read changes it, so the next run reads it again.
    signature = file_signature(landing_file.path)
    if source is None and versions and versions[-1][2] == signature:
        # A contract file whose bytes are those its latest version was read from: not read again
        # (ten million orders are about a gigabyte to hash every run). A mapped export's version also
        # depends on its mapping and lookups, so it is always hashed.
        version = versions[-1][0]
        return FileOutcome(path, "unchanged", 0, version, None, f"already loaded (version {version}), skipped")
    is_text = landing_file.file_format in ("csv", "jsonl")
    seen = fingerprint(landing_file.path, inspect_text=is_text,
                       encoding=options.encoding if options and is_text else None)
    file_sha256 = seen.sha256
    if source is not None:
        seen = replace(seen, sha256=combined_hash(seen.sha256, source, landing_dir, key_fingerprint(con)))
    if versions and versions[-1][1] == seen.sha256:
        version = versions[-1][0]
        if source is None:
            remember_signature(con, entity.name, path, version, signature)
        return FileOutcome(path, "unchanged", 0, version, seen.encoding, f"already loaded (version {version}), skipped")
    version = versions[-1][0] + 1 if versions else 1
    returned_to = next((v for v, content, _ in versions if content == seen.sha256), None)
    with tempfile.TemporaryDirectory(prefix="retention-load-") as scratch:
        readable = landing_file.path
        transcoding = None
        if seen.needs_transcoding:
            readable = Path(scratch) / f"utf8.{landing_file.file_format}"
            transcoding = transcode_to_utf8(landing_file.path, readable, seen.encoding)
        rows, drift, mapped_from = append_file_version(
            con, entity, landing_file, readable,
            FileVersion(seen.sha256, seen.size, version, file_sha256, signature), guard,
            MappedRead(source, Path(scratch), landing_dir) if source is not None else None)
    if version == 1:
        notes = [f"loaded {rows:,} rows"]
    elif returned_to is not None:
        notes = [f"content returned to that of version {returned_to}: loaded {rows:,} rows as version {version}, "
                 f"which replaces version {version - 1}"]
    else:
        notes = [f"content changed since version {version - 1}: loaded {rows:,} rows as version {version}, "
                 "which replaces it"]
    if seen.encoding not in (None, "utf-8"):
        notes.append(seen.describe())
    if transcoding and transcoding.replaced:
        notes.append(f"{transcoding.replaced:,} byte sequences not valid {seen.encoding}, the first on "
                     f"line {transcoding.first_line}, replaced by U+FFFD (their rows go to quarantine)")
    if drift:
        notes.append(drift)
    warning = ""
    if seen.is_guess:
        warning = (f"{path}: {seen.describe()}: if names or cities look wrong, name the file's encoding in the "
                   f"sources file (files: {{<name>: {{glob: \"{path}\", encoding: <encoding>}}}})")
    status = "loaded" if version == 1 else "new_version"
    return FileOutcome(path, status, rows, version, seen.encoding, "; ".join(notes), drift, warning, mapped_from)


def combined_hash(content_hash: str, source: MappedSource, landing_dir: Path | None,
                  pii_fingerprint: str = "") -> str:
    """The version hash of a mapped export: its content, its mapping, every lookup file's content and, for a
    mapping that pseudonymises, which key it does so with (`pii_fingerprint`, never the key itself).

    So a corrected mapping, a changed lookup or a new key loads the export again as its next version,
    which replaces what the old one made of it.
    """
    digest = hashlib.sha256(content_hash.encode())
    mapping = mapping_fingerprint(source)
    digest.update(mapping.encode())
    if PSEUDONYM_MACRO in mapping:
        digest.update(pii_fingerprint.encode())
    for name, relative in sorted(source.lookups.items()):
        path = (landing_dir or Path()) / relative
        digest.update(f"{name}:{fingerprint(path, inspect_text=False).sha256 if path.exists() else '-'}".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class MappedRead:
    """How to read a mapped export: its source, a scratch folder, and the landing dir its lookups are under."""

    source: MappedSource
    scratch: Path
    landing_dir: Path | None


@dataclass(frozen=True)
class FileVersion:
    """The content a file had when it was read."""

    content_hash: str
    size: int
    version: int
    file_sha256: str = ""  # the bytes' own hash (content_hash of a mapped export also covers its mapping)
    signature: str = ""  # the file's signature when it was read (ingestion/landing/discovery.py file_signature)


def append_file_version(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    landing_file: LandingFile,
    readable: Path,
    file_version: FileVersion,
    guard: LoadGuard | None = None,
    mapped: MappedRead | None = None,
) -> tuple[int, str, dict[str, str]]:
    """Append one file's rows and its manifest entry in a single transaction.

    Returns the row count, a note on schema drift ("" when the header
    matches the contract) and, for a mapped export, which export column or
    expression fed each contract column. A file missing a required column, or refused by
    `guard`, is rolled back and raises LoadError. A mapped export's rows are
    its mapping's rows for `entity`; the manifest note says which export
    column fed each contract column.
    """
    lineage = Lineage(FILES_SOURCE, landing_file.relative_path, utc_now(), new_load_id())
    mapping_note = ""
    try:
        if mapped is not None:
            file_sql, file_params = export_select(con, mapped.source, readable, landing_file.file_format,
                                                  mapped.scratch)
            selected = entity_select(con, mapped.source, entity.name, file_sql, file_params,
                                     landing_file.relative_path, mapped.landing_dir or Path(),
                                     landing_file.file_format in TYPED_FORMATS)
            select_sql, params = selected.sql, selected.params
            (export_rows,) = con.execute(f"SELECT count(*) FROM ({file_sql}) AS export", file_params).fetchone()
            mapping_note = f"mapped by files.{mapped.source.name} from {export_rows:,} export rows: " + ", ".join(
                f"{column} <- {origin}" for column, origin in selected.origins.items())
        elif landing_file.file_format == "csv":
            select_sql, params = csv_select(readable)
        elif landing_file.file_format == "parquet":
            select_sql, params = parquet_select(readable)
        else:
            select_sql, params = jsonl_select(con, readable)
        columns = source_columns(con, select_sql, params)
    except MappingError as err:
        raise LoadError(f"{err}; nothing of {landing_file.relative_path} was loaded") from None
    except (duckdb.Error, ValueError, OSError) as err:
        raise LoadError(unreadable_message(landing_file, err)) from None
    # A mapping names its columns itself (and was checked against the export): drift is for contract files.
    if mapped is None:
        refuse_missing_required_columns(entity, landing_file.relative_path, columns)
    missing, unexpected = schema_drift(entity, columns) if mapped is None else ([], [])
    drift = "; ".join(part for part in (
        f"columns missing (left empty): {', '.join(missing)}" if missing else "",
        f"columns not in the contract (kept in raw): {', '.join(unexpected)}" if unexpected else "",
    ) if part)
    con.execute("BEGIN TRANSACTION")
    try:
        rows = append_to_raw(con, entity, select_sql, params, lineage)
        version = file_version.version
        note = "new file" if version == 1 else f"new version {version} (content changed)"
        if drift:
            note += f"; {drift}"
        if mapping_note:
            note += f"; {mapping_note}"
        record_entry = LoadRecord(lineage.load_id, entity.name, FILES_SOURCE, landing_file.relative_path,
                                  file_version.content_hash, file_version.size, version, rows, lineage.loaded_at,
                                  note, json.dumps(selected.origins, ensure_ascii=False) if mapped else "",
                                  file_version.file_sha256, file_version.signature)
        record_load(con, record_entry)
        # Judged with its manifest entry in place (a refusal names the export's own columns); a refusal
        # rolls both back.
        if guard is not None:
            guard(con, entity, lineage.load_id, landing_file.relative_path)
        con.execute("COMMIT")
    except duckdb.Error as err:
        con.execute("ROLLBACK")
        raise LoadError(unreadable_message(landing_file, err)) from None
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return rows, drift, selected.origins if mapped is not None else {}


def unreadable_message(landing_file: LandingFile, err: Exception) -> str:
    """A file DuckDB could not parse, in words: the file, the format, and DuckDB's first line of explanation."""
    first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    # DuckDB quotes the value it could not convert; a value may be an e-mail or a phone number.
    first_line = re.sub(r"'[^']*'", "'(value not shown)'", first_line)
    return (f"could not read {landing_file.relative_path} as {landing_file.file_format}: {first_line}; "
            "nothing of it was loaded. Fix or replace the file and run again.")
