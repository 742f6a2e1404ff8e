"""Runs whose process died: found by the next run, marked failed, their claims released.

A run killed with SIGKILL (or by the OOM killer, a deploy, a closed laptop)
cannot record its own end: Dagster keeps showing it as started. Every run
tags itself with the warehouse it writes and its process (pid, host, start
time); the next run of that warehouse, once it holds the writer lock, marks
every other started run of the warehouse whose process is gone as failed and
frees whatever concurrency slots it still claims, then says so in one line.
"""

from __future__ import annotations

import dagster as dg

from orchestration.runs.lock import Holder, process_is_alive

WAREHOUSE_TAG = "retention/warehouse"
PID_TAG = "retention/pid"
HOST_TAG = "retention/host"
START_TICKS_TAG = "retention/process_start"
UNFINISHED = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def process_tags(warehouse: str, holder: Holder) -> dict[str, str]:
    """The tags by which a later run recognises this run and its process."""
    return {WAREHOUSE_TAG: warehouse, PID_TAG: str(holder.pid), HOST_TAG: holder.host,
            START_TICKS_TAG: "" if holder.start_ticks is None else str(holder.start_ticks)}


def _process_gone(run: dg.DagsterRun) -> bool:
    tags = run.tags
    if PID_TAG not in tags:
        return False
    ticks = tags.get(START_TICKS_TAG) or None
    return process_is_alive(int(tags[PID_TAG]), tags.get(HOST_TAG, ""), int(ticks) if ticks else None) is False


def mark_dead_runs_failed(instance: dg.DagsterInstance, warehouse: str, current_run_id: str,
                          died_holding: Holder | None) -> list[str]:
    """Mark the unfinished runs of `warehouse` whose process is gone as failed; return one line per run.

    Call it while holding the writer lock: then no other run of the warehouse
    can be writing, and a run whose process is still alive is only waiting.
    """
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED, tags={WAREHOUSE_TAG: warehouse}))
    dead = {run.run_id: run for run in runs if run.run_id != current_run_id and _process_gone(run)}
    if died_holding is not None and died_holding.run_id != current_run_id:
        record = instance.get_run_by_id(died_holding.run_id)
        if record is not None and record.status in UNFINISHED:
            dead[record.run_id] = record
    lines = []
    for run in dead.values():
        pid = run.tags.get(PID_TAG, "?")
        instance.report_run_failed(
            run, message=f"The process of this run (pid {pid}) ended without finishing it (killed?); "
                         f"run {current_run_id[:8]} marked it failed.")
        # A run killed while it held a pool slot never gives it back by itself.
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        lines.append(f"run {run.run_id[:8]} (pid {pid}) died without finishing; marked it failed and took over "
                     "the warehouse")
    if died_holding is not None and died_holding.run_id not in dead and died_holding.run_id != current_run_id:
        lines.append(f"{died_holding.describe()} ended without releasing the warehouse; took it over")
    return lines
