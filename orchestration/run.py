"""Running the refresh job in this process, as the CLI and the tests do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import dagster as dg

from orchestration.definitions import build_definitions
from orchestration.instance import dagster_home
from orchestration.jobs.refresh import refresh_warehouse_job
from orchestration.settings import Settings

if TYPE_CHECKING:
    from dagster._utils.error import SerializableErrorInfo


@dataclass(frozen=True)
class RunOutcome:
    """Whether a run succeeded and, if not, what failed, in words."""

    run_id: str
    success: bool
    failures: list[str]
    checks_passed: int
    checks_failed: int


def root_cause(error: SerializableErrorInfo | None) -> str:
    """Return the message of the innermost cause of an error: the part a user can act on."""
    if error is None:
        return "failed"
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    """Return one line per failed step or check: the step and its error message."""
    messages = []
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            data = event.step_failure_data
            user = data.user_failure_data
            text = (user.description if user and user.description else None) or root_cause(data.error)
            messages.append(f"{event.step_key}: {text}")
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed:
                key = evaluation.asset_check_key
                level = "failed" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "warns"
                detail = f": {evaluation.description}" if evaluation.description else ""
                messages.append(f"check {key.name} on {key.asset_key.to_user_string()} {level}{detail}")
    return messages


def run_refresh(settings: Settings, log_level: str = "INFO", persist_run: bool = True) -> RunOutcome:
    """Materialise every asset and run every check in this process; return the outcome.

    With `persist_run`, the run is stored in the project's Dagster home so the
    UI shows it; otherwise it runs on a throwaway instance (tests).
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
    )
    evaluations = [
        e.event_specific_data for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    passed = sum(1 for e in evaluations if e.passed)
    return RunOutcome(result.run_id, result.success, failure_messages(result), passed, len(evaluations) - passed)
