"""The writer lock: one holder at a time, a bounded wait that names the holder, nothing left by a dead holder,
and dead runs recognised by the next one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import dagster as dg
import pytest

from orchestration.runs import lock
from orchestration.runs.dead_runs import mark_dead_runs_failed, process_tags

HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from orchestration.runs import lock
    lock.acquire(Path(sys.argv[1]), lock.Holder.this_process(sys.argv[2], "retention run"))
    print("held", flush=True)
    time.sleep(600)
""")


@pytest.fixture
def other_holder(tmp_path):
    """Another process holding the warehouse of tmp_path as run 'abcdef0123456789'."""
    warehouse = tmp_path / "warehouse.duckdb"
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse), "abcdef0123456789"],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "held\n"
    yield warehouse, process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_the_lock_is_reentrant_in_one_process_and_empty_once_released(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    me = lock.Holder.this_process("run-1", "retention run")
    first = lock.acquire(warehouse, me, wait_seconds=0)
    second = lock.acquire(warehouse, lock.Holder.this_process("run-1", "retention run"), wait_seconds=0)
    assert (first.reentered, second.reentered, first.died_holding) == (False, True, None)
    assert lock.current_holder(warehouse) == me
    lock.release(warehouse)
    assert lock.current_holder(warehouse) == me  # still held by the outer acquire
    lock.release(warehouse)
    assert lock.lock_path(warehouse).read_text() == "" and lock.current_holder(warehouse) is None


def test_a_second_holder_waits_a_bounded_time_and_names_the_first(other_holder):
    warehouse, holder = other_holder
    said: list[str] = []
    started = time.monotonic()
    with pytest.raises(lock.WarehouseBusy) as busy:
        lock.acquire(warehouse, lock.Holder.this_process("run-2", "retention run"), wait_seconds=1.0,
                     progress=said.append)
    assert 1.0 <= time.monotonic() - started < 5
    record = json.loads(lock.lock_path(warehouse).read_text())
    since = record["started_at"].replace("T", " ").replace("+00:00", " UTC")
    who = f"run abcdef01 (retention run, pid {holder.pid}, since {since})"
    assert said == [f"waiting for {who} to finish with {warehouse} (0 s so far, at most 1 s)"]
    assert str(busy.value) == (f"{warehouse} is in use by {who}; gave up waiting after 1 s "
                               "(RETENTION_LOCK_WAIT_SECONDS). Run again when it has finished, or stop it first.")


def test_a_holder_killed_with_sigkill_releases_the_lock_and_is_named_by_the_next(other_holder):
    warehouse, holder = other_holder
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert lock.current_holder(warehouse) is None  # its record is left, but its process is gone
    acquired = lock.acquire(warehouse, lock.Holder.this_process("run-3", "retention run"), wait_seconds=0)
    try:
        assert acquired.died_holding.run_id == "abcdef0123456789"
        assert acquired.died_holding.pid == holder.pid
    finally:
        lock.release(warehouse)


def test_runs_whose_process_is_gone_are_marked_failed_and_live_ones_left_alone(tmp_path):
    warehouse = str(tmp_path / "warehouse.duckdb")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = lock.Holder.this_process("alive", "the Dagster UI")
    gone = lock.Holder(run_id="gone", command="schedule daily_refresh", pid=dead.pid, host=alive.host,
                       started_at=alive.started_at, start_ticks=None)
    with dg.DagsterInstance.ephemeral() as instance:
        for holder, run_id in ((gone, "gone-run"), (alive, "alive-run")):
            instance.add_run(dg.DagsterRun(job_name="refresh_warehouse", run_id=run_id,
                                           status=dg.DagsterRunStatus.STARTED,
                                           tags=process_tags(warehouse, holder)))
        # This very process under a recorded start time that is not its own: the pid was handed out again.
        reused = lock.Holder("reused", "sensor new_landing_files", alive.pid, alive.host, alive.started_at,
                             start_ticks=(alive.start_ticks or 0) + 1)
        instance.add_run(dg.DagsterRun(job_name="refresh_warehouse", run_id="reused-pid",
                                       status=dg.DagsterRunStatus.STARTED, tags=process_tags(warehouse, reused)))
        lines = mark_dead_runs_failed(instance, warehouse, current_run_id="me", died_holding=None)
        assert sorted(lines) == [f"run gone-run (pid {dead.pid}) died without finishing; marked it failed and took "
                                 "over the warehouse",
                                 f"run reused-p (pid {alive.pid}) died without finishing; marked it failed and took "
                                 "over the warehouse"]
        assert instance.get_run_by_id("gone-run").status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id("reused-pid").status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id("alive-run").status == dg.DagsterRunStatus.STARTED
