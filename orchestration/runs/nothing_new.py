"""How a run says it found nothing new for the model layers, and the log noise it spares its readers.

The first model step (orchestration/assets/model_state.py) records its run in
NOTHING_NEW_RUNS and logs an observation with the metadata key NOTHING_NEW;
the run report reads the observation, and SkippedChecksFilter the set.
"""

from __future__ import annotations

import logging

# The metadata key of the observation by which the first model step says it found nothing to do.
NOTHING_NEW = "nothing new: no model work"
# The run of this process whose first model step found nothing to do (the warehouse resource clears it
# when a run starts).
NOTHING_NEW_RUNS: set[str] = set()


class SkippedChecksFilter(logging.Filter):
    """Drops Dagster's notice that a skipped step's blocking checks emitted no result, in a nothing-new run.

    Such a run skips the model steps and with them their checks; Dagster then warns once per blocking
    check that the steps after it proceed without gating on it, although those steps are skipped too.
    In any other run the notice stays: there it can mean a check that did not run.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """False for the notice during a nothing-new run, True for everything else."""
        return not (NOTHING_NEW_RUNS and "emitted no result in step" in record.getMessage())


def quiet_skipped_checks() -> None:
    """Install SkippedChecksFilter on the logger of Dagster's execution plan (once)."""
    plan_logger = logging.getLogger("dagster._core.execution.plan.active")
    if not any(isinstance(f, SkippedChecksFilter) for f in plan_logger.filters):
        plan_logger.addFilter(SkippedChecksFilter())
