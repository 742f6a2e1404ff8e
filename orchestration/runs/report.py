"""What a run did, in words, kept in the data directory for readers.

Every run, from any entry point, writes its report when it ends and while it
still holds the writer lock: whether it succeeded, what failed (step or
check, and the message a user can act on), how many checks passed, and the
warehouse summary. `retention run` prints it, `retention status` prints the
latest one: neither opens the warehouse the next run may be writing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from orchestration.atomic_files import write_text_atomically
from orchestration.runs.nothing_new import NOTHING_NEW

if TYPE_CHECKING:
    from dagster._utils.error import SerializableErrorInfo


INTERRUPTED = ("interrupted (Ctrl-C or SIGTERM) before it finished; readers keep the last complete publication, "
               "and the next run starts from the data as it is")


NOTHING_NEW_NOTE = ("nothing new since the last complete run: staging, the marts, their checks, the publication "
                    "and the report were left as they are ({skipped} steps skipped); readers keep the published "
                    "version")


@dataclass(frozen=True)
class RunOutcome:
    """Whether a run succeeded and, if not, what failed, in words; with the warehouse summary it left."""

    run_id: str
    success: bool
    failures: list[str]
    checks_passed: int
    checks_failed: int  # blocking checks that failed
    finished_at: str = ""
    summary: str = ""  # the warehouse summary as printed ("" when the run could not read the warehouse)
    notes: list[str] = field(default_factory=list)  # warnings worth reading after a successful run too
    # Non-blocking checks that found something, each with every rule that fired (the run goes on).
    warnings: list[str] = field(default_factory=list)

    @property
    def checks_warned(self) -> int:
        """Non-blocking checks that found something."""
        return len(self.warnings)


def root_cause(error: SerializableErrorInfo | None) -> str:
    """Return the message of the innermost cause of an error: the part a user can act on."""
    if error is None:
        return "failed"
    while error.cause is not None:
        error = error.cause
    if error.cls_name == "DagsterExecutionInterruptedError":
        return INTERRUPTED
    message = error.message.strip()
    # Dagster writes "package.module.ErrorClass: text"; the user needs the text.
    name = f"{error.cls_name}: " if error.cls_name else None
    return message.split(name, 1)[1] if name and name in message.split("\n", 1)[0] else message


def _failed_checks(events: Iterable[dg.DagsterEvent], severity: dg.AssetCheckSeverity) -> list[str]:
    """One message per failed check of `severity`: the check, the asset, and every rule that fired."""
    messages = []
    for event in events:
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.severity == severity:
                key = evaluation.asset_check_key
                level = "failed" if severity == dg.AssetCheckSeverity.ERROR else "warns"
                detail = f": {evaluation.description}" if evaluation.description else ""
                messages.append(f"check {key.name} on {key.asset_key.to_user_string()} {level}{detail}")
    return messages


def warning_messages(events: Iterable[dg.DagsterEvent]) -> list[str]:
    """One message per non-blocking check that found something, with all its rules."""
    return _failed_checks(events, dg.AssetCheckSeverity.WARN)


def failure_messages(events: Iterable[dg.DagsterEvent]) -> list[str]:
    """One line per failed step or blocking check (and its message), and a run that failed before any step."""
    events = list(events)
    messages = []
    for event in events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            data = event.step_failure_data
            user = data.user_failure_data
            text = (user.description if user and user.description else None) or root_cause(data.error)
            messages.append(f"{event.step_key}: {text}")
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            messages += _failed_checks([event], dg.AssetCheckSeverity.ERROR)
        elif event.event_type == dg.DagsterEventType.RUN_FAILURE and not messages:
            # Nothing ran (e.g. the warehouse stayed busy): the run's own error is the message.
            data = event.event_specific_data
            error = getattr(data, "error", None)
            if error is not None:
                messages.append(root_cause(error))
    return messages


def outcome_of(run_id: str, events: list[dg.DagsterEvent], success: bool, summary: str = "") -> RunOutcome:
    """The outcome of a run from its events."""
    evaluations = [e.event_specific_data for e in events if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]
    passed = sum(1 for e in evaluations if e.passed)
    failed = sum(1 for e in evaluations if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR)
    skipped = sum(1 for e in events if e.event_type == dg.DagsterEventType.STEP_SKIPPED)
    nothing_new = any(e.event_type == dg.DagsterEventType.ASSET_OBSERVATION
                      and NOTHING_NEW in e.event_specific_data.asset_observation.metadata for e in events)
    notes = [NOTHING_NEW_NOTE.format(skipped=skipped)] if success and nothing_new else []
    return RunOutcome(run_id, success, failure_messages(events), passed, failed,
                      datetime.now(timezone.utc).isoformat(timespec="seconds"), summary,
                      notes=notes, warnings=warning_messages(events))


def run_events(instance: dg.DagsterInstance, run_id: str) -> list[dg.DagsterEvent]:
    """The Dagster events a run has logged so far."""
    return [entry.dagster_event for entry in instance.all_logs(run_id) if entry.dagster_event is not None]


def write_run_report(path: Path, outcome: RunOutcome) -> Path:
    """Replace the latest run report with `outcome` (atomically: readers see the old one or the new one)."""
    return write_text_atomically(path, json.dumps(asdict(outcome), indent=2, ensure_ascii=False))


def write_landed_record(path: Path, contents: dict[str, list[str]]) -> Path:
    """Replace the record of loaded content (landing path -> SHA-256s) the new-file sensor reads."""
    return write_text_atomically(path, json.dumps(contents, indent=1, sort_keys=True))


def read_landed_record(path: Path | None) -> dict[str, list[str]]:
    """The content the runs have loaded, per landing path; {} before the first run (or when unreadable)."""
    if path is None:
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def read_run_report(path: Path) -> RunOutcome | None:
    """The latest run report, or None before the first run."""
    try:
        return RunOutcome(**json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
