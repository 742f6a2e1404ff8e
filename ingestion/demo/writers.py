"""Writing the staged demo tables to landing files through DuckDB COPY.

Batches of simulated rows are appended to a temporary on-disk DuckDB database
(the staging area), so memory stays bounded whatever the number of customers;
once every batch is in, each entity is written with one `COPY (SELECT ...)`
per output file, splitting the rows by row range.

Determinism: the writing connection runs single-threaded, so rows come out in
insertion order and Parquet row groups are cut at the same places every run;
the same staged rows therefore give byte-identical files.

Files appear atomically: each is written under a hidden name (`.name.partial`,
which the landing loader ignores) and renamed into place when complete.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

from ingestion.demo.rendering import contract_select_list, quote

FILE_SUFFIXES: dict[str, str] = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl"}
CSV_ENCODINGS = ("utf-8", "gb18030")
TRANSCODE_CHUNK_BYTES = 8 * 1024 * 1024

_COPY_OPTIONS: dict[str, str] = {
    "csv": "FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"'",
    "parquet": "FORMAT parquet, COMPRESSION snappy",
    "jsonl": "FORMAT json",  # newline-delimited objects, one per row
}


class StagingArea:
    """A temporary DuckDB database collecting the staged tables batch by batch."""

    def __init__(self, directory: Path, memory_limit: str = "1GB") -> None:
        """Open (create) the staging database in `directory`, which the caller owns and removes."""
        self._con = duckdb.connect(str(directory / "staging.duckdb"))
        spill = (directory / "spill").as_posix().replace("'", "''")
        self._con.execute(f"SET memory_limit = '{memory_limit}'")
        self._con.execute(f"SET temp_directory = '{spill}'")
        self._con.execute("SET threads = 1")
        self._con.execute("SET preserve_insertion_order = true")
        self._con.execute("SET TimeZone = 'UTC'")
        self._con.execute("SET enable_progress_bar = false")
        self._tables: set[str] = set()

    def __enter__(self) -> StagingArea:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection."""
        self._con.close()

    def append(self, entity: str, table: pa.Table) -> None:
        """Append a batch of staged rows for `entity`; the first batch fixes the table's columns."""
        self._con.register("staged_batch", table)
        try:
            if entity in self._tables:
                self._con.execute(f"INSERT INTO {quote(entity)} BY NAME SELECT * FROM staged_batch")
            else:
                self._con.execute(f"CREATE TABLE {quote(entity)} AS SELECT * FROM staged_batch")
                self._tables.add(entity)
        finally:
            self._con.unregister("staged_batch")

    def row_count(self, entity: str) -> int:
        """Rows staged so far for `entity` (0 when none)."""
        if entity not in self._tables:
            return 0
        return self._con.execute(f"SELECT count(*) FROM {quote(entity)}").fetchone()[0]

    def columns(self, entity: str) -> list[str]:
        """The staged table's column names."""
        return [row[0] for row in self._con.execute(f"DESCRIBE {quote(entity)}").fetchall()]

    def copy_rows(self, entity: str, file_format: str, first_row: int, end_row: int, target: Path) -> None:
        """Write staged rows [first_row, end_row) of `entity`, rendered as contract columns, to `target`."""
        select_list = contract_select_list(entity, self.columns(entity), typed=file_format == "parquet")
        # rowid is the insertion position: appends only, never deletes.
        sql = (
            f"COPY (SELECT {select_list}\n  FROM {quote(entity)}\n"
            f"  WHERE rowid >= {int(first_row)} AND rowid < {int(end_row)}) "
            f"TO '{_sql_path(target)}' ({_COPY_OPTIONS[file_format]})"
        )
        self._con.execute(sql)


def _sql_path(path: Path) -> str:
    return path.as_posix().replace("'", "''")


def data_file_name(entity: str, number: int, file_format: str) -> str:
    """The landing file name of an entity's `number`-th file (1-based), e.g. `customers_0001.csv`."""
    return f"{entity}_{number:04d}{FILE_SUFFIXES[file_format]}"


def remove_previous_files(folder: Path, entity: str) -> None:
    """Delete data files an earlier demo run left in `folder` (only names this writer uses).

    Without this a re-run with fewer files per entity or another format would
    leave stale files that the loader would load next to the new ones.
    """
    pattern = re.compile(rf"^\.?{re.escape(entity)}_\d{{4}}\.(csv|parquet|jsonl)(\.partial|\.utf8)?$")
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file() and pattern.match(path.name):
                path.unlink()


def write_entity(
    staging: StagingArea,
    entity: str,
    landing_dir: Path,
    file_format: str,
    csv_encoding: str,
    files: int,
    progress: Callable[[str], None],
) -> list[Path]:
    """Write an entity's staged rows into `files` files under landing_dir/entity; return their paths.

    Rows are split by row range: file k of n holds rows [k*N/n, (k+1)*N/n).
    CSV files are transcoded to `csv_encoding` when it is not UTF-8.
    """
    if csv_encoding not in CSV_ENCODINGS:
        raise ValueError(f"csv_encoding must be one of {CSV_ENCODINGS}, not {csv_encoding!r}")
    folder = landing_dir / entity
    folder.mkdir(parents=True, exist_ok=True)
    remove_previous_files(folder, entity)
    total = staging.row_count(entity)
    written: list[Path] = []
    for index in range(files):
        target = folder / data_file_name(entity, index + 1, file_format)
        partial = target.with_name(f".{target.name}.partial")
        first, end = index * total // files, (index + 1) * total // files
        if file_format == "csv" and csv_encoding != "utf-8":
            utf8 = target.with_name(f".{target.name}.utf8")
            staging.copy_rows(entity, file_format, first, end, utf8)
            transcode(utf8, partial, csv_encoding)
            utf8.unlink()
        else:
            staging.copy_rows(entity, file_format, first, end, partial)
        os.replace(partial, target)
        written.append(target)
        progress(f"{entity}: wrote {target.name} ({end - first:,} rows)")
    return written


def transcode(source: Path, target: Path, encoding: str, chunk_bytes: int = TRANSCODE_CHUNK_BYTES) -> None:
    """Re-encode a UTF-8 file as `encoding`, streaming in chunks.

    DuckDB only writes UTF-8. Incremental codecs carry a character split across
    a chunk boundary over to the next chunk, so memory stays at one chunk.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    encoder = codecs.getincrementalencoder(encoding)(errors="strict")
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(chunk_bytes):
            dst.write(encoder.encode(decoder.decode(chunk)))
        dst.write(encoder.encode(decoder.decode(b"", final=True), final=True))
