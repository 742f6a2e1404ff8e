"""Incremental extraction of a table or query through SQLAlchemy into raw.

Rows stream from the database in batches (server-side cursors where the
driver has them) and go to DuckDB as Arrow tables, so memory stays bounded
by the batch size. One extraction is one transaction: rows, manifest entry
and new watermark land together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from ingestion.contract import Entity
from ingestion.database.config import DatabaseEntitySource
from ingestion.raw.manifest import LoadRecord, ensure_manifest, new_load_id, record_load, utc_now
from ingestion.raw.tables import Lineage, append_to_raw, ensure_raw_table
from ingestion.raw.watermarks import current_watermark, ensure_watermarks, save_watermark

BATCH_ROWS = 50_000
BATCH_VIEW = "__retention_extract_batch"


class ExtractError(RuntimeError):
    """A database source that could not be read; the message names it."""


@dataclass(frozen=True)
class DatabaseLoad:
    """The outcome of one extraction."""

    entity: str
    source: str
    source_object: str
    rows: int
    previous_watermark: Any
    watermark: Any


def extraction_statement(engine: sa.Engine, source: DatabaseEntitySource, since: Any | None) -> sa.Select:
    """Return the SELECT for a source: everything, or rows past the watermark, in watermark order."""
    if source.table:
        table = sa.Table(source.table, sa.MetaData(), schema=source.schema, autoload_with=engine)
        statement = sa.select(table)
        watermark = table.c[source.watermark] if source.watermark else None
    else:
        statement = sa.select(sa.literal_column("*")).select_from(sa.text(f"({source.query}) AS src"))
        quoted = engine.dialect.identifier_preparer.quote(source.watermark) if source.watermark else None
        watermark = sa.literal_column(f"src.{quoted}") if quoted else None
    if watermark is not None:
        if since is not None:
            # Strictly greater: rows at the old watermark were loaded last time.
            statement = statement.where(watermark > sa.bindparam("since", since))
        statement = statement.order_by(watermark)
    return statement


def arrow_column(values: tuple) -> pa.Array:
    """Return a batch column as Arrow, as text when the values do not share one type."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Typeless sources (SQLite) can mix ints and text in one column; raw is text anyway.
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def batches(result: sa.CursorResult, first_row: int) -> Iterator[pa.Table]:
    """Yield the result as Arrow tables of at most BATCH_ROWS rows, with `_row_number`."""
    names = list(result.keys())
    row_number = first_row
    for rows in result.partitions(BATCH_ROWS):
        columns = list(zip(*rows)) if rows else [() for _ in names]
        table = pa.table({name: arrow_column(col) for name, col in zip(names, columns)})
        table = table.append_column("_row_number", pa.array(range(row_number, row_number + len(rows)), pa.int64()))
        row_number += len(rows)
        yield table


def load_database_entity(
    con: duckdb.DuckDBPyConnection,
    source: DatabaseEntitySource,
    entity: Entity,
    log: Callable[[str], None] = lambda _: None,
    guard: Callable[[duckdb.DuckDBPyConnection, Entity, str, str], None] | None = None,
) -> DatabaseLoad:
    """Extract new rows of one database source into the entity's raw table.

    `guard` (see ingestion.landing.loader.LoadGuard) may refuse the extraction
    before it is committed; the watermark then stays where it was.
    """
    ensure_manifest(con)
    ensure_watermarks(con)
    ensure_raw_table(con, entity)
    since = current_watermark(con, source.source_name, entity.name, source.object_name) if source.watermark else None
    lineage = Lineage(source.source_name, source.object_name, utc_now(), new_load_id())
    engine = sa.create_engine(source.url)
    rows = 0
    newest = since
    con.execute("BEGIN TRANSACTION")
    try:
        with engine.connect() as conn:
            statement = extraction_statement(engine, source, since)
            result = conn.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(statement)
            for batch in batches(result, first_row=rows + 1):
                if source.watermark:
                    batch_max = pc.max(batch[source.watermark]).as_py()
                    newest = batch_max if newest is None or batch_max > newest else newest
                batch = batch.rename_columns([source.columns.get(c, c) for c in batch.column_names])
                con.register(BATCH_VIEW, batch)
                rows += append_to_raw(con, entity, f"SELECT * FROM {BATCH_VIEW}", None, lineage)
                con.unregister(BATCH_VIEW)
                log(f"{source.database}.{source.object_name}: {rows:,} rows so far")
        if guard is not None:
            guard(con, entity, lineage.load_id, f"{source.database}.{source.object_name}")
        note = f"rows with {source.watermark} > {since}" if since is not None else "full extraction"
        record_load(con, LoadRecord(lineage.load_id, entity.name, source.source_name, source.object_name,
                                    None, None, 1, rows, lineage.loaded_at, note))
        if source.watermark and newest is not None:
            save_watermark(con, source.source_name, entity.name, source.object_name, source.watermark,
                           newest, lineage.loaded_at)
        con.execute("COMMIT")
    except (sa.exc.SQLAlchemyError, duckdb.Error, KeyError) as err:
        con.execute("ROLLBACK")
        raise ExtractError(f"could not extract {entity.name} from {source.database}.{source.object_name}: {err}") from None
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        engine.dispose()
    return DatabaseLoad(entity.name, source.source_name, source.object_name, rows, since, newest)
