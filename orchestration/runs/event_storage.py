"""Dagster's SQLite event log, with one SQLAlchemy engine per database file instead of one per event.

Dagster's own SqliteEventLogStorage creates (and disposes of) an engine for
every event it stores, and so also compiles every statement anew: at about
740 events a daily run (each step's start, output and end, every check of
every dbt test), that was 8 s of a 80 s run on 1,000,000 customers. This
subclass keeps each file's engine for the life of the process. Connections
are still opened per use and closed after it (NullPool, as Dagster does), so
other processes (`retention ui`, the daemon) share the files as before.
dagster.yaml names it (orchestration/instance.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage as DagsterSqliteEventLog
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool


class SqliteEventLogStorage(DagsterSqliteEventLog):
    """SqliteEventLogStorage keeping one engine per shard (see the module docstring).

    `base_dir` defaults to where Dagster keeps its own: DAGSTER_HOME/history/runs.
    """

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {"base_dir": dg.Field(dg.StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Mapping[str, Any]) -> SqliteEventLogStorage:
        base_dir = config_value.get("base_dir") or str(Path(os.environ["DAGSTER_HOME"]) / "history" / "runs")
        return cls(base_dir=base_dir, inst_data=inst_data)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine_for(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _engine_for(self, shard: str) -> Engine:
        engines: dict[str, Engine] = self.__dict__.setdefault("_engines", {})
        if shard not in engines:
            engines[shard] = create_engine(self.conn_string_for_shard(shard), poolclass=NullPool,
                                           connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        return engines[shard]
