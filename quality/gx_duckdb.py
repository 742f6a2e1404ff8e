"""Great Expectations on the DuckDB warehouse, with the queries running inside DuckDB.

GX 1.x has no DuckDB datasource, and its generic SQL datasource over
duckdb-engine returns empty results: it opens a new connection for every
query and, for dialects outside its own short list (SQLite, SQL Server,
BigQuery, Databricks), fetches the rows after that connection is closed.
Every expectation then fails with no observed value, or passes without
looking. Here a `duckdb` datasource type keeps one connection per execution
engine, read-only, so GX's metric queries run as SQL in DuckDB and their
results arrive. Tables are read through query assets (`SELECT * FROM
schema.table`) because GX's column reflection drops the schema of a table asset.

`warehouse_datasource` opens it and closes the connection afterwards, so a
writer in the same process can open the file again: the engine uses no
connection pool (SQLAlchemy's pool keeps checked-out DuckDB connections alive
after `dispose`, and DuckDB refuses a writer while any reader of the file is
open in the process).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import great_expectations as gx
from great_expectations.data_context import AbstractDataContext
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.datasource.fluent import SQLDatasource
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from sqlalchemy.pool import NullPool


class DuckDBExecutionEngine(SqlAlchemyExecutionEngine):
    """GX's SQLAlchemy engine with one persisted connection, as GX does for SQLite."""

    @contextmanager
    def get_connection(self) -> Iterator:
        """Yield the engine's one connection, opening it on first use."""
        if self._connection is None:
            self._connection = self.engine.connect()
        yield self._connection

    def execute_query(self, query):  # noqa: ANN001, ANN201 (GX's signature)
        """Run one metric query; after a failure, roll back so that the next query starts a clean transaction.

        DuckDB aborts the open transaction when a statement fails (out of memory, a missing table), and
        GX runs a suite's metric queries one after another on this one connection: without the rollback
        every later rule of the suite would fail with "Current transaction is aborted" instead of counting.
        """
        try:
            return super().execute_query(query)
        except Exception:
            if self._connection is not None:
                self._connection.rollback()
            raise

    def close(self) -> None:
        """Close the persisted connection and the pool (GX's close leaves the connection open)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self.engine.dispose()


class DuckDBDatasource(SQLDatasource):
    """A fluent datasource of type `duckdb` (connection string `duckdb:///path`)."""

    type: Literal["duckdb"] = "duckdb"  # type: ignore[assignment]

    @property
    def execution_engine_type(self) -> type[SqlAlchemyExecutionEngine]:
        """The execution engine that keeps its connection."""
        return DuckDBExecutionEngine


def quiet_context() -> AbstractDataContext:
    """An ephemeral GX context without progress bars (they would clutter run logs)."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@contextmanager
def warehouse_datasource(
    warehouse: Path, context: AbstractDataContext | None = None, name: str = "warehouse",
    memory_limit: str | None = None,
) -> Iterator[tuple[AbstractDataContext, DuckDBDatasource]]:
    """Yield (context, datasource) reading `warehouse` read-only; close the connection on exit.

    `memory_limit` caps DuckDB's buffers (RETENTION_DUCKDB_MEMORY_LIMIT); beyond it DuckDB spills to disk.
    """
    context = context or quiet_context()
    connect_args: dict = {"read_only": True}
    if memory_limit:
        connect_args["config"] = {"memory_limit": memory_limit}
    datasource = context.data_sources.add_or_update_duckdb(
        name=name,
        connection_string=f"duckdb:///{Path(warehouse).resolve().as_posix()}",
        kwargs={"connect_args": connect_args, "poolclass": NullPool},
    )
    try:
        yield context, datasource
    finally:
        datasource.get_execution_engine().close()
        # GX keeps its last context in a module global; dropping the datasource lets its
        # cached metrics (which hold DuckDB type objects) go before the interpreter exits.
        context.data_sources.delete(name)


def relation_batch_definition(datasource: DuckDBDatasource, relation: str, query: str | None = None):
    """A whole-table batch definition named `relation` (schema.table): its rows, or those of `query`."""
    asset = datasource.add_query_asset(name=relation, query=query or f"SELECT * FROM {relation}")
    return asset.add_batch_definition_whole_table(name=f"{relation} (all rows)")
