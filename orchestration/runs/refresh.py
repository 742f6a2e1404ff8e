"""Running the refresh job in this process, as the CLI and the tests do."""

from __future__ import annotations

import dagster as dg

from orchestration.definitions import build_definitions
from orchestration.instance import dagster_home
from orchestration.jobs.refresh import refresh_warehouse_job
from orchestration.resources.warehouse import ENTRY_TAG
from orchestration.runs.report import RunOutcome, outcome_of, read_run_report
from orchestration.settings import Settings


def run_refresh(settings: Settings, log_level: str = "INFO", persist_run: bool = True) -> RunOutcome:
    """Materialise every asset and run every check in this process; return the outcome.

    With `persist_run`, the run is stored in the project's Dagster home so the
    UI shows it; otherwise it runs on a throwaway instance (tests). The
    outcome carries the warehouse summary the run itself wrote into its report.
    """
    defs = build_definitions(settings)
    job = defs.resolve_job_def(refresh_warehouse_job.name)
    if persist_run:
        dagster_home()
        instance = dg.DagsterInstance.get()
    else:
        instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        tags={ENTRY_TAG: "retention run"},
    )
    report = read_run_report(settings.run_report_path)
    summary = report.summary if report is not None and report.run_id == result.run_id else ""
    return outcome_of(result.run_id, result.all_events, result.success, summary)
