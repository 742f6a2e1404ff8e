"""Atomic publishing of the marts: a new serving DuckDB file (and Parquet files) swapped in by rename.

The next version is built beside the current one (`.serving.duckdb.<run>.tmp`)
and moved over it with one `os.replace`: a reader that opened the old file
keeps reading it (the old inode lives until it closes), a reader that opens
after the rename gets the new one, and nobody sees half of a version. The
Parquet copies go to `parquet/versions/<run>/`, which is complete only once
its marker `_complete.json` is written (last); then the symlink
`parquet/current` is swapped the same way. Table `marts._publication` says
which version a reader sees.

A publication killed halfway leaves a temporary serving file and a version
folder without its marker. Both are debris: the next publication (which
holds the writer lock, so no other publication can be running) removes
them, never points `current` at an incomplete folder, and keeps the version
readers had until the new one is complete. Killed in the instant between
the two swaps, the serving file is new and the Parquet link old (each a
complete version): the next publication points the link at the file's
version before anything else.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from orchestration.serving.readers import open_published

MARTS_SCHEMA = "marts"
# Personal data (names) for the team that calls customers: its own file, only on request.
RESTRICTED_SCHEMA = "restricted"
PUBLICATION_TABLE = f"{MARTS_SCHEMA}._publication"
NEXT_ALIAS = "next_serving"
# Complete Parquet versions kept, the current one included (a reader may still be reading the one before).
KEPT_PARQUET_VERSIONS = 2
COMPLETE_MARKER = "_complete.json"


@dataclass(frozen=True)
class Publication:
    """What one publication wrote."""

    serving_path: Path
    parquet_dir: Path
    rows_by_table: dict[str, int]
    run_id: str
    as_of_date: date | None
    published_at: datetime


@dataclass(frozen=True)
class PublishedVersion:
    """The version a reader of the serving file sees now."""

    run_id: str
    published_at: datetime
    as_of_date: date | None
    marts: int


def read_publication(serving_path: Path) -> PublishedVersion | None:
    """The published version (from marts._publication), or None when nothing is published yet."""
    if not serving_path.exists():
        return None
    with open_published(serving_path) as con:
        row = con.execute(f"SELECT run_id, published_at, as_of_date, marts FROM {PUBLICATION_TABLE}").fetchone()
    return PublishedVersion(*row) if row else None


def mart_relations(con: duckdb.DuckDBPyConnection, schema: str = MARTS_SCHEMA) -> list[str]:
    """The tables and views of the warehouse schema (internal ones, starting with _, excluded)."""
    rows = con.execute("""
        SELECT table_name FROM duckdb_tables() WHERE schema_name = $schema AND database_name = current_database()
        UNION
        SELECT view_name FROM duckdb_views() WHERE schema_name = $schema AND NOT internal
            AND database_name = current_database()
        ORDER BY 1
    """, {"schema": schema}).fetchall()
    return [name for (name,) in rows if not name.startswith("_")]


def _swap_symlink(link: Path, target: Path) -> None:
    """Point `link` at `target` atomically (a new link renamed over the old one)."""
    temporary = link.with_name(f".{link.name}.next")
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(target, target_is_directory=True)
    os.replace(temporary, link)


def _fsync(path: Path) -> None:
    """Flush a file (or a folder's entries) to disk, so a rename never publishes unwritten bytes."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_debris(serving_path: Path) -> list[Path]:
    """Remove what killed publications left: temporary serving files and incomplete Parquet versions.

    The folder `current` points at is never removed (a version published by an
    older release has no marker, yet it is what readers read).
    """
    removed = []
    for leftover in serving_path.parent.glob(f".{serving_path.name}.*.tmp*"):
        leftover.unlink(missing_ok=True)
        removed.append(leftover)
    versions = serving_path.parent / "parquet" / "versions"
    served = _current_version(serving_path)
    for folder in versions.iterdir() if versions.is_dir() else []:
        if folder.is_dir() and folder.name != served and not (folder / COMPLETE_MARKER).exists():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    # Killed between swapping in the serving file and the Parquet link: make the Parquet match the file.
    published = read_publication(serving_path)
    matching = published is not None and (versions / published.run_id / COMPLETE_MARKER).exists()
    if matching and published.run_id != served:
        _swap_symlink(serving_path.parent / "parquet" / "current", Path("versions") / published.run_id)
    return removed


def _current_version(serving_path: Path) -> str | None:
    current = serving_path.parent / "parquet" / "current"
    return Path(os.readlink(current)).name if current.is_symlink() else None


def _published_at(folder: Path) -> str:
    """When a complete Parquet version was published (ISO text, from its marker; '' if it does not say)."""
    try:
        return str(json.loads((folder / COMPLETE_MARKER).read_text(encoding="utf-8")).get("published_at", ""))
    except (OSError, ValueError):
        return ""


def _prune_parquet_versions(versions: Path, keep: set[str]) -> None:
    """Remove complete Parquet versions beyond the newest few; the ones in `keep` always stay."""
    complete = [folder for folder in versions.iterdir() if (folder / COMPLETE_MARKER).exists()]
    by_age = sorted(complete, key=_published_at, reverse=True)
    for old in by_age[KEPT_PARQUET_VERSIONS:]:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def publish_marts(con: duckdb.DuckDBPyConnection, serving_path: Path, run_id: str,
                  as_of_date: date | None, schema: str = MARTS_SCHEMA) -> Publication:
    """Copy every relation of `schema` in the warehouse (`con`) into a new serving file and Parquet set,
    then swap them in. The caller holds the writer lock."""
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    remove_debris(serving_path)
    next_path = serving_path.with_name(f".{serving_path.name}.{run_id}.tmp")
    parquet_root = serving_path.parent / "parquet"
    version_dir = parquet_root / "versions" / run_id
    shutil.rmtree(version_dir, ignore_errors=True)
    version_dir.mkdir(parents=True)
    published_at = datetime.now(timezone.utc).replace(tzinfo=None)
    relations = mart_relations(con, schema)
    rows: dict[str, int] = {}
    con.execute(f"ATTACH '{next_path.as_posix()}' AS {NEXT_ALIAS}")
    try:
        con.execute(f"CREATE SCHEMA {NEXT_ALIAS}.{schema}")
        for name in relations:
            target = f"{NEXT_ALIAS}.{schema}.{name}"
            con.execute(f"CREATE TABLE {target} AS SELECT * FROM {schema}.{name}")
            rows[name] = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
            parquet = version_dir / f"{name}.parquet"
            con.execute(f"COPY {target} TO '{parquet.as_posix()}' (FORMAT parquet)")
            _fsync(parquet)
        con.execute(
            f"CREATE TABLE {NEXT_ALIAS}.{schema}._publication AS SELECT CAST(? AS VARCHAR) AS run_id, "
            "CAST(? AS TIMESTAMP) AS published_at, CAST(? AS DATE) AS as_of_date, "
            "CAST(? AS INTEGER) AS marts",
            [run_id, published_at, as_of_date, len(relations)],
        )
    except BaseException:
        con.execute(f"DETACH {NEXT_ALIAS}")
        next_path.unlink(missing_ok=True)
        raise
    con.execute(f"DETACH {NEXT_ALIAS}")  # checkpoints: the file is complete on its own
    _fsync(next_path)
    marker = {"run_id": run_id, "published_at": published_at.isoformat(), "rows": rows}
    (version_dir / COMPLETE_MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
    _fsync(version_dir / COMPLETE_MARKER)
    _fsync(version_dir)
    previous = _current_version(serving_path)
    os.replace(next_path, serving_path)
    _fsync(serving_path.parent)
    current = parquet_root / "current"
    _swap_symlink(current, Path("versions") / run_id)
    _prune_parquet_versions(parquet_root / "versions", keep={run_id, *([previous] if previous else [])})
    return Publication(serving_path, current, rows, run_id, as_of_date, published_at)


def publish_restricted(con: duckdb.DuckDBPyConnection, contacts_path: Path, run_id: str,
                       as_of_date: date | None) -> Publication:
    """Publish the restricted schema (customers' names) like the marts, into a folder only its owner can open."""
    contacts_path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(contacts_path.parent, 0o700)
    publication = publish_marts(con, contacts_path, run_id, as_of_date, schema=RESTRICTED_SCHEMA)
    os.chmod(contacts_path, 0o600)
    return publication


def withdraw_restricted(contacts_path: Path) -> bool:
    """Remove the restricted publication (names published before the opt-in was withdrawn); True if there was one."""
    folder = contacts_path.parent
    if not folder.exists():
        return False
    shutil.rmtree(folder)
    return True
