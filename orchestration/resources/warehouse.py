"""The embedded DuckDB warehouse, and a run's hold on it from its first step to its last."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from ingestion.raw.manifest import landed_contents
from orchestration.runs import lock
from orchestration.runs.dead_runs import mark_dead_runs_failed, process_tags
from orchestration.runs.nothing_new import NOTHING_NEW_RUNS
from orchestration.runs.report import outcome_of, run_events, write_landed_record, write_run_report
from orchestration.summary import format_summary, warehouse_summary

# The tag the CLI puts on its runs, so that a waiter can say "retention run" rather than "the Dagster UI".
ENTRY_TAG = "retention/entry"
# How long opening the file retries while a process that outlived its run (a dbt child of a killed
# run, say) still holds DuckDB's own lock on it.
FILE_LOCK_RETRY_SECONDS = 60.0
FILE_LOCK_CONFLICT = re.compile(r"Could not set lock on file|Conflicting lock is held")


def entry_point(run: dg.DagsterRun) -> str:
    """How a run was started, in words: `retention run`, `schedule daily_refresh`, `the Dagster UI`, ..."""
    tags = run.tags
    if ENTRY_TAG in tags:
        return tags[ENTRY_TAG]
    if "dagster/schedule_name" in tags:
        return f"schedule {tags['dagster/schedule_name']}"
    if "dagster/sensor_name" in tags:
        return f"sensor {tags['dagster/sensor_name']}"
    if "dagster/backfill" in tags:
        return "a backfill"
    return "the Dagster UI"


class DuckDBWarehouse(dg.ConfigurableResource):
    """The warehouse file, held by one run at a time.

    When a run starts, the resource takes the writer lock (runs/lock.py),
    waiting at most `lock_wait_seconds` for another run and saying for whom;
    then it marks runs of this warehouse whose process died as failed. When
    the run ends, however its steps went, it writes the run report for
    readers and releases the lock.
    """

    path: str
    memory_limit: str | None = None
    lock_wait_seconds: float = lock.DEFAULT_WAIT_SECONDS
    # Where the report of each run goes (None: nowhere, e.g. a resource built for one query).
    run_report_path: str | None = None
    # Where each run records the content the manifest has loaded, for the new-file sensor (None: nowhere).
    landed_record_path: str | None = None
    _holds_lock: bool = PrivateAttr(default=False)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Take the warehouse for this run (see the class docstring)."""
        run = context.run
        if run is None:
            return
        NOTHING_NEW_RUNS.clear()  # a new run of this process: nothing is known to be new or not yet
        holder = lock.Holder.this_process(run.run_id, entry_point(run))
        # Tagged before waiting, so that a run killed while it waits is recognised too.
        context.instance.add_run_tags(run.run_id, process_tags(self.path, holder))
        acquired = lock.acquire(Path(self.path), holder, self.lock_wait_seconds, progress=context.log.warning)
        self._holds_lock = True
        if acquired.died_holding is not None:
            for pid in lock.stop_children(acquired.died_holding):
                context.log.warning(f"stopped process {pid} (dbt) that run {acquired.died_holding.run_id[:8]} "
                                    "left running when it died")
        for line in mark_dead_runs_failed(context.instance, self.path, run.run_id, acquired.died_holding):
            context.log.warning(line)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """Write the run report, then release the warehouse."""
        if not self._holds_lock:
            return
        try:
            if self.run_report_path and context.run is not None:
                self.write_report(context.instance, context.run.run_id)
        finally:
            self._holds_lock = False
            lock.release(Path(self.path))

    def write_report(self, instance: dg.DagsterInstance, run_id: str) -> None:
        """The report of the run so far (all its steps have ended when teardown calls this)."""
        events = run_events(instance, run_id)
        success = not any(e.event_type == dg.DagsterEventType.STEP_FAILURE for e in events)
        summary = ""
        if Path(self.path).exists():
            with self.connect(read_only=True) as con:
                summary = format_summary(warehouse_summary(con, Path(self.path)))
                if self.landed_record_path:
                    write_landed_record(Path(self.landed_record_path), landed_contents(con))
        write_run_report(Path(self.run_report_path), outcome_of(run_id, events, success, summary))

    def started_child(self, pid: int) -> None:
        """Record that this run started process `pid` (dbt) that writes the warehouse too."""
        lock.add_child(Path(self.path), pid)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the warehouse; a writer creates the file (and its folder) if needed."""
        if not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        config = {"memory_limit": self.memory_limit} if self.memory_limit else {}
        con = open_retrying(self.path, read_only, config)
        # Text without an offset is read as UTC, whatever the machine's zone.
        con.execute("SET TimeZone = 'UTC'")
        try:
            yield con
        finally:
            con.close()


def open_retrying(path: str, read_only: bool, config: dict[str, str],
                  retry_seconds: float = FILE_LOCK_RETRY_SECONDS) -> duckdb.DuckDBPyConnection:
    """duckdb.connect, retried for a while when another process still holds the file.

    The writer lock keeps runs apart; what can remain is a child of a killed
    run (a dbt process) finishing its last statement. Waiting a bounded time
    for it beats failing the new run; after that the error names the process.
    """
    deadline = time.monotonic() + retry_seconds
    while True:
        try:
            return duckdb.connect(path, read_only=read_only, config=config)
        except duckdb.IOException as err:
            if not FILE_LOCK_CONFLICT.search(str(err)) or time.monotonic() >= deadline:
                raise
            time.sleep(0.5)
