"""Atomic publishing of the marts: a new serving DuckDB file (and Parquet files) swapped in by rename.

The next version is built beside the current one (`.serving.duckdb.<run>.tmp`,
in which every mart is replaced, the large ones part by part) and moved over
it with one `os.replace`: a reader that opened the old file keeps reading it
(the old inode lives until it closes), a reader that opens after the rename
gets the new one, and nobody sees half of a version.

The file the next version is built in is the version before the current
one, kept as `.serving.duckdb.standby` (a hard link made just before each
swap), once no reader holds it open any more: DuckDB's own file lock says
so (a reader's lock makes the attach for writing fail). Bringing it up to
date rewrites what changed over two publications, where copying the current
file would write every byte of it (the order fact's ten million rows at a
million customers) on every run. Where a reader still holds it, or there is
none, the current file is copied. The standby costs one more file of the
serving file's size on disk.

The Parquet copies go to `parquet/versions/<run>/` (one file per mart, one
folder of parts for a partitioned mart), which is complete only once its
marker `_complete.json` is written (last); then the symlink
`parquet/current` is swapped the same way. Table `marts._publication` says
which version a reader sees.

A publication killed halfway leaves a temporary serving file (perhaps the
standby it was bringing up to date: the next publication copies instead)
and a version folder without its marker. Both are debris: the next
publication (which holds the writer lock, so no other publication can be
running) removes them, never points `current` at an incomplete folder, and
keeps the version readers had until the new one is complete. Killed in the
instant between linking the standby and the swap, the standby is the current
file itself, which is then never written. Killed between the two swaps,
the serving file is new and the Parquet link old (each a complete version):
the next publication points the link at the file's version before anything
else.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from ingestion.raw.tables import quote_identifier
from orchestration.serving.readers import open_published

MARTS_SCHEMA = "marts"
# Personal data (names) for the team that calls customers: its own file, only on request.
RESTRICTED_SCHEMA = "restricted"
PUBLICATION_TABLE = f"{MARTS_SCHEMA}._publication"
NEXT_ALIAS = "next_serving"
CURRENT_ALIAS = "current_serving"
# Complete Parquet versions kept, the current one included (a reader may still be reading the one before).
KEPT_PARQUET_VERSIONS = 2
COMPLETE_MARKER = "_complete.json"
# Marts too large to copy whole every run, and the column that splits each into parts of which a day's changes
# touch few (a day's orders land in the latest month): published part by part (`_publish_by_parts`), in
# Parquet as one folder per part, <mart>/<column>=<value>/ (Hive style).
PARTITIONED_MARTS: dict[str, str] = {"fct_orders": "order_month"}
# In the serving file: per partitioned mart and part, its rows and content hash.
PARTS_TABLE_NAME = "_parts"
# Hive's name for the part of NULL values (what DuckDB's PARTITION_BY writes).
NULL_PART = "__HIVE_DEFAULT_PARTITION__"


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


def parquet_files(parquet_dir: Path, name: str) -> str:
    """Where a published mart's Parquet lies under a version folder (`parquet/current`), for read_parquet:
    its file, or the files of its parts (PARTITIONED_MARTS)."""
    if name in PARTITIONED_MARTS:
        return (parquet_dir / name / "*" / "*.parquet").as_posix()
    return (parquet_dir / f"{name}.parquet").as_posix()


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
    then swap them in. The caller holds the writer lock.

    The new file starts as a copy of the published one: the marts are replaced
    whole, except the large ones of PARTITIONED_MARTS, whose changed parts
    only are replaced (in the file and in Parquet; see `_publish_by_parts`).
    """
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    remove_debris(serving_path)
    previous = read_publication(serving_path)
    next_path = serving_path.with_name(f".{serving_path.name}.{run_id}.tmp")
    parquet_root = serving_path.parent / "parquet"
    version_dir = parquet_root / "versions" / run_id
    previous_dir = parquet_root / "versions" / previous.run_id if previous else None
    shutil.rmtree(version_dir, ignore_errors=True)
    version_dir.mkdir(parents=True)
    published_at = datetime.now(timezone.utc).replace(tzinfo=None)
    relations = mart_relations(con, schema)
    rows: dict[str, int] = {}
    reused = previous is not None and _attach_standby(con, serving_path, next_path)
    if not reused:
        if previous is not None:
            # The current file is complete on its own (its last writer checkpointed it on detach).
            shutil.copyfile(serving_path, next_path)
        con.execute(f"ATTACH '{next_path.as_posix()}' AS {NEXT_ALIAS}")
    if reused:
        # The Parquet of the current version is what unchanged parts link to: compare with its parts.
        con.execute(f"ATTACH '{serving_path.as_posix()}' AS {CURRENT_ALIAS} (READ_ONLY)")
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {NEXT_ALIAS}.{schema}")
        for gone in set(_tables(con, schema)) - set(relations) - {PARTS_TABLE_NAME}:
            con.execute(f"DROP TABLE {NEXT_ALIAS}.{schema}.{gone}")
        for name in relations:
            if schema == MARTS_SCHEMA and name in PARTITIONED_MARTS:
                rows[name] = _publish_by_parts(con, schema, name, version_dir, previous_dir,
                                               CURRENT_ALIAS if reused else NEXT_ALIAS)
                continue
            target = f"{NEXT_ALIAS}.{schema}.{name}"
            con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {schema}.{name}")
            rows[name] = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
            parquet = version_dir / f"{name}.parquet"
            con.execute(f"COPY {target} TO '{parquet.as_posix()}' (FORMAT parquet)")
            _fsync(parquet)
        con.execute(
            f"CREATE OR REPLACE TABLE {NEXT_ALIAS}.{schema}._publication AS SELECT CAST(? AS VARCHAR) AS run_id, "
            "CAST(? AS TIMESTAMP) AS published_at, CAST(? AS DATE) AS as_of_date, "
            "CAST(? AS INTEGER) AS marts",
            [run_id, published_at, as_of_date, len(relations)],
        )
    except BaseException:
        con.execute(f"DETACH {NEXT_ALIAS}")
        next_path.unlink(missing_ok=True)
        raise
    finally:
        if reused:
            con.execute(f"DETACH {CURRENT_ALIAS}")
    con.execute(f"DETACH {NEXT_ALIAS}")  # checkpoints: the file is complete on its own
    _fsync(next_path)
    marker = {"run_id": run_id, "published_at": published_at.isoformat(), "rows": rows}
    (version_dir / COMPLETE_MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
    _fsync(version_dir / COMPLETE_MARKER)
    _fsync(version_dir)
    served = _current_version(serving_path)
    if previous is not None:
        # The version readers see until the swap becomes the standby of the next publication.
        standby = standby_path(serving_path)
        standby.unlink(missing_ok=True)
        os.link(serving_path, standby)
    os.replace(next_path, serving_path)
    _fsync(serving_path.parent)
    current = parquet_root / "current"
    _swap_symlink(current, Path("versions") / run_id)
    _prune_parquet_versions(parquet_root / "versions", keep={run_id, *([served] if served else [])})
    return Publication(serving_path, current, rows, run_id, as_of_date, published_at)


def standby_path(serving_path: Path) -> Path:
    """Where the version before the current one is kept to build the next in (see the module docstring)."""
    return serving_path.with_name(f".{serving_path.name}.standby")


def _attach_standby(con: duckdb.DuckDBPyConnection, serving_path: Path, next_path: Path) -> bool:
    """Move the standby to `next_path` and attach it for writing as NEXT_ALIAS; False (and no standby left)
    when there is none, when it is the current file itself (killed between linking and swapping), or when
    a reader still holds it open."""
    standby = standby_path(serving_path)
    if not standby.exists():
        return False
    if os.path.samefile(standby, serving_path):
        standby.unlink()
        return False
    os.replace(standby, next_path)
    try:
        con.execute(f"ATTACH '{next_path.as_posix()}' AS {NEXT_ALIAS}")
    except duckdb.Error:
        # A reader that opened this version while it was current still reads it: leave its inode to it.
        next_path.unlink(missing_ok=True)
        return False
    return True


def _tables(con: duckdb.DuckDBPyConnection, schema: str, database: str = NEXT_ALIAS) -> list[str]:
    """The tables of `schema` in an attached serving file (by default the one being built)."""
    return [name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = ?",
        [database, schema]).fetchall()]


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    """(name, type) of a table's or view's columns, in order."""
    return con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {relation})").fetchall()


def _publish_by_parts(con: duckdb.DuckDBPyConnection, schema: str, name: str, version_dir: Path,
                      previous_dir: Path | None, published: str = NEXT_ALIAS) -> int:
    """Publish a mart of PARTITIONED_MARTS by its changed parts; return its rows.

    Each part's rows and content hash are kept in the serving file
    (PARTS_TABLE_NAME). The parts whose hash differs from the kept one (or that
    appeared or vanished) are deleted and inserted again in the file being
    built. In Parquet, the parts that differ from the current version's (the
    attached file `published`: the file being built when it started as a copy
    of the current one) are written again, and the others' files are hard links
    to the current version's. Without kept hashes, or when the mart's columns
    changed, the mart is published whole.
    """
    column = PARTITIONED_MARTS[name]
    source, target = f"{schema}.{name}", f"{NEXT_ALIAS}.{schema}.{name}"
    part = f"coalesce(CAST({quote_identifier(column)} AS VARCHAR), '{NULL_PART}')"
    con.execute(f"CREATE TABLE IF NOT EXISTS {NEXT_ALIAS}.{schema}.{PARTS_TABLE_NAME} "
                "(relation VARCHAR, part VARCHAR, rows BIGINT, content HUGEINT)")
    # hash() of the whole row: a part whose rows are equal, value for value, keeps its hash.
    con.execute(f"CREATE OR REPLACE TEMP TABLE _parts_now AS SELECT {part} AS part, count(*) AS rows, "
                f"sum(hash(mart)::HUGEINT) AS content FROM {source} AS mart GROUP BY ALL")
    present = {part_value: count for part_value, count in con.execute("SELECT part, rows FROM _parts_now").fetchall()}
    changed = _changed_parts(con, schema, name, NEXT_ALIAS)
    if changed is None:
        con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {source}")
    elif changed:
        con.execute(f"DELETE FROM {target} WHERE {part} IN (SELECT unnest(?::VARCHAR[]))", [changed])
        con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {source} "
                    f"WHERE {part} IN (SELECT unnest(?::VARCHAR[]))", [changed])
    # Compared before the kept hashes below are replaced (when `published` is the file being built).
    unlike_current = changed if published == NEXT_ALIAS else _changed_parts(con, schema, name, published)
    parts = f"{NEXT_ALIAS}.{schema}.{PARTS_TABLE_NAME}"
    con.execute(f"DELETE FROM {parts} WHERE relation = ?", [name])
    con.execute(f"INSERT INTO {parts} SELECT ?, part, rows, content FROM _parts_now", [name])
    # Parquet: one folder per part (Hive style, as Spark and DuckDB read them); unchanged parts are linked.
    folder = version_dir / name
    folder.mkdir()
    earlier = previous_dir / name if previous_dir is not None else None
    linkable = {part_value for part_value in present
                if unlike_current is not None and part_value not in unlike_current
                and earlier is not None and (earlier / f"{column}={part_value}").is_dir()}
    rewrite = sorted(set(present) - linkable)
    if rewrite:
        con.execute(f"COPY (SELECT * FROM {target} WHERE {part} IN (SELECT unnest(?::VARCHAR[]))) "
                    f"TO '{folder.as_posix()}' (FORMAT parquet, PARTITION_BY ({quote_identifier(column)}), "
                    "WRITE_PARTITION_COLUMNS true)", [rewrite])
    for part_value in sorted(linkable):
        (folder / f"{column}={part_value}").mkdir()
        for file in (earlier / f"{column}={part_value}").iterdir():
            _link_or_copy(file, folder / f"{column}={part_value}" / file.name)
    for file in folder.rglob("*.parquet"):
        _fsync(file)
    return sum(present.values())


def _changed_parts(con: duckdb.DuckDBPyConnection, schema: str, name: str, database: str) -> list[str] | None:
    """The parts of the mart (in _parts_now) whose rows or hash differ from those the attached serving file
    `database` keeps, or that it has and the mart no longer has; None when that file has no hashes of the
    mart or its columns differ (so that every part is new)."""
    parts = f"{database}.{schema}.{PARTS_TABLE_NAME}"
    tables = _tables(con, schema, database)
    if name not in tables or PARTS_TABLE_NAME not in tables:
        return None
    if _columns(con, f"{database}.{schema}.{name}") != _columns(con, f"{schema}.{name}"):
        return None
    (kept,) = con.execute(f"SELECT count(*) FROM {parts} WHERE relation = ?", [name]).fetchone()
    if not kept:
        return None
    return [part_value for (part_value,) in con.execute(
        "SELECT DISTINCT part FROM ("
        f"(SELECT part, rows, content FROM _parts_now EXCEPT "
        f"SELECT part, rows, content FROM {parts} WHERE relation = $name) UNION ALL "
        f"(SELECT part, rows, content FROM {parts} WHERE relation = $name EXCEPT "
        "SELECT part, rows, content FROM _parts_now)) AS differing ORDER BY part", {"name": name}).fetchall()]


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link (published files are never written again, so versions can share them); a copy where the
    file system has none."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


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
