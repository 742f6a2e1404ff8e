"""Dagster's SQLite event log, with one open connection per database file instead of one engine per event.

Dagster's own SqliteEventLogStorage creates (and disposes of) an engine for
every event it stores, and so also compiles every statement anew, opens the
file and closes it again, and SQLite checkpoints the WAL into the database
on every last close: at about 740 events a daily run (each step's start,
output and end, every check of every dbt test), that was some 10 s of a 80 s
run on 1,000,000 customers. This subclass keeps one engine and one open
connection per file (the index and the run's own; the few most recently used
files, so that the UI, which reads many runs, holds a bounded number open),
used by one thread at a time under Dagster's lock. Other processes (`retention
ui`, the daemon) read and write the same files as before: Dagster keeps them
in WAL mode. Commits return without waiting for the disk (`PRAGMA synchronous
= NORMAL`): in WAL mode a killed process loses nothing it committed, only a
crash of the machine itself can lose the last events. With the file kept open
a commit changes only its WAL file (`<run>.db-wal`) until a checkpoint, so the
watcher that shows a running run's events live in the UI wakes on that file
too. dagster.yaml names it (orchestration/instance.py).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.event_api import EventHandlerFn
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage as DagsterSqliteEventLog
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorageWatchdog
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool
from watchdog.events import FileSystemEvent
from watchdog.observers import Observer


# Files kept open at once (the index, the run being written, and a few a reader looked at last).
OPEN_FILES = 4


class SqliteEventLogStorage(DagsterSqliteEventLog):
    """SqliteEventLogStorage keeping one open connection per shard (see the module docstring).

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
        engines: OrderedDict[str, Engine] = self.__dict__.setdefault("_engines", OrderedDict())
        if shard in engines:
            engines.move_to_end(shard)
            return engines[shard]
        # StaticPool: one connection, kept open; _connect holds Dagster's lock while it is in use.
        engine = create_engine(self.conn_string_for_shard(shard), poolclass=StaticPool,
                               connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False})
        event.listen(engine, "connect", _commit_without_flush)
        engines[shard] = engine
        while len(engines) > OPEN_FILES:
            engines.popitem(last=False)[1].dispose()
        return engine

    def has_table(self, table_name: str) -> bool:
        """Whether the index holds `table_name`; a table found once is not looked up again.

        Dagster asks before storing every check result (about 150 a run), each time with an engine and a
        connection of its own. Tables are only ever added (by `dagster instance migrate`), so a table found
        stays found; one not found is looked up again.
        """
        found: set[str] = self.__dict__.setdefault("_found_tables", set())
        if table_name not in found and super().has_table(table_name):
            found.add(table_name)
        return table_name in found

    def watch(self, run_id: str, cursor: str | None, callback: EventHandlerFn) -> None:
        """Call `callback` with the run's new events as they are committed (Dagster's watcher, see the module
        docstring for why it also watches the WAL file)."""
        if not self._obs:
            self._obs = Observer()
            self._obs.start()
        watchdog = _RunLogWatchdog(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (watchdog, self._obs.schedule(watchdog, self._base_dir, recursive=True))

    def dispose(self) -> None:
        """Close the open connections, then what Dagster's storage holds."""
        with self._db_lock:
            for engine in self.__dict__.pop("_engines", {}).values():
                engine.dispose()
        super().dispose()


class _RunLogWatchdog(SqliteEventLogStorageWatchdog):
    """Dagster's watcher of a run's event file, woken also by the file's WAL, where commits land first."""

    @property
    def patterns(self) -> list[str]:
        """The run's database file and its WAL file."""
        return [self._log_path, f"{self._log_path}-wal"]

    def on_modified(self, event: FileSystemEvent) -> None:
        """Read the events committed since the last call and hand them on."""
        self._process_log()


def _commit_without_flush(dbapi_connection: Any, _record: Any) -> None:
    """Let a commit return before the WAL reaches the disk (see the module docstring)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()
