"""Atomic publishing of the marts: a new serving DuckDB file (and Parquet files) swapped in by rename.

The next version is built beside the current one (`.serving.duckdb.<run>.tmp`)
and moved over it with one `os.replace`: a reader that opened the old file
keeps reading it (the old inode lives until it closes), a reader that opens
after the rename gets the new one, and nobody sees half of a version. The
Parquet copies go to `parquet/versions/<run>/`, and the symlink
`parquet/current` is swapped the same way. Table `marts._publication` says
which version a reader sees.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

MARTS_SCHEMA = "marts"
PUBLICATION_TABLE = f"{MARTS_SCHEMA}._publication"
NEXT_ALIAS = "next_serving"
KEPT_PARQUET_VERSIONS = 2


@dataclass(frozen=True)
class Publication:
    """What one publication wrote."""

    serving_path: Path
    parquet_dir: Path
    rows_by_table: dict[str, int]
    run_id: str
    as_of_date: date | None
    published_at: datetime


def mart_relations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables and views of the warehouse's marts schema (internal ones, starting with _, excluded)."""
    rows = con.execute(f"""
        SELECT table_name FROM duckdb_tables() WHERE schema_name = '{MARTS_SCHEMA}' AND database_name = current_database()
        UNION
        SELECT view_name FROM duckdb_views() WHERE schema_name = '{MARTS_SCHEMA}' AND NOT internal
            AND database_name = current_database()
        ORDER BY 1
    """).fetchall()
    return [name for (name,) in rows if not name.startswith("_")]


def _swap_symlink(link: Path, target: Path) -> None:
    """Point `link` at `target` atomically (a new link renamed over the old one)."""
    temporary = link.with_name(f".{link.name}.next")
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(target, target_is_directory=True)
    os.replace(temporary, link)


def _prune_parquet_versions(versions: Path, keep: set[str]) -> None:
    """Remove Parquet versions nobody points at any more, keeping the newest few."""
    by_age = sorted((p for p in versions.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in by_age[KEPT_PARQUET_VERSIONS:]:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def publish_marts(con: duckdb.DuckDBPyConnection, serving_path: Path, run_id: str,
                  as_of_date: date | None) -> Publication:
    """Copy every mart of the warehouse (`con`) into a new serving file and Parquet set, then swap them in."""
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    next_path = serving_path.with_name(f".{serving_path.name}.{run_id}.tmp")
    next_path.unlink(missing_ok=True)
    parquet_root = serving_path.parent / "parquet"
    version_dir = parquet_root / "versions" / run_id
    shutil.rmtree(version_dir, ignore_errors=True)
    version_dir.mkdir(parents=True)
    published_at = datetime.now(timezone.utc).replace(tzinfo=None)
    relations = mart_relations(con)
    rows: dict[str, int] = {}
    con.execute(f"ATTACH '{next_path.as_posix()}' AS {NEXT_ALIAS}")
    try:
        con.execute(f"CREATE SCHEMA {NEXT_ALIAS}.{MARTS_SCHEMA}")
        for name in relations:
            target = f"{NEXT_ALIAS}.{MARTS_SCHEMA}.{name}"
            con.execute(f"CREATE TABLE {target} AS SELECT * FROM {MARTS_SCHEMA}.{name}")
            rows[name] = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
            con.execute(f"COPY {target} TO '{(version_dir / f'{name}.parquet').as_posix()}' (FORMAT parquet)")
        con.execute(
            f"CREATE TABLE {NEXT_ALIAS}.{PUBLICATION_TABLE} AS SELECT CAST(? AS VARCHAR) AS run_id, "
            "CAST(? AS TIMESTAMP) AS published_at, CAST(? AS DATE) AS as_of_date, "
            "CAST(? AS INTEGER) AS marts",
            [run_id, published_at, as_of_date, len(relations)],
        )
    except BaseException:
        con.execute(f"DETACH {NEXT_ALIAS}")
        next_path.unlink(missing_ok=True)
        raise
    con.execute(f"DETACH {NEXT_ALIAS}")  # checkpoints: the file is complete on its own
    os.replace(next_path, serving_path)
    current = parquet_root / "current"
    _swap_symlink(current, Path("versions") / run_id)
    _prune_parquet_versions(parquet_root / "versions", keep={run_id})
    return Publication(serving_path, current, rows, run_id, as_of_date, published_at)
