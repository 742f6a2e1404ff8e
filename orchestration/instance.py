"""The project's Dagster instance home (.dagster/), shared by the CLI and `dagster dev`.

Runs started from the CLI are stored there too, so they show in the UI.
There are no concurrency pools or run-queue limits: one writer per warehouse
is the OS lock every run takes (orchestration/runs/lock.py), which dies with
its process, where a pool slot of a killed run stayed claimed and blocked
every later run.
"""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.settings import PROJECT_ROOT

# What earlier releases wrote: an unedited copy is brought up to date.
EARLIER_DAGSTER_YAML = """\
# Written by `retention`; edit freely, it is not overwritten.
# One run per warehouse at a time is enforced by the warehouse's own lock
# file (data/warehouse.duckdb.lock), not by Dagster pools: a run that waits
# for another says so in its log and gives up after RETENTION_LOCK_WAIT_SECONDS.
telemetry:
  enabled: false
"""
DAGSTER_YAML = EARLIER_DAGSTER_YAML + """\
# Dagster's SQLite event log with one database engine per file, not one per event
# (orchestration/runs/event_storage.py); the files stay where Dagster keeps them.
event_log_storage:
  module: orchestration.runs.event_storage
  class: SqliteEventLogStorage
"""


def dagster_home() -> Path:
    """Return DAGSTER_HOME (default <project>/.dagster), created with a dagster.yaml if missing (or unedited
    from an earlier release)."""
    home = Path(os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text(encoding="utf-8") == EARLIER_DAGSTER_YAML:
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    return home
