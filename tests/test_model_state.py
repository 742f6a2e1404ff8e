"""The record of complete model builds: only the run that started building may complete it."""

from __future__ import annotations

from ingestion.raw.changes import built_fingerprint
from orchestration.assets.model_state import COMPLETE_STEP, finish_building, start_building


def test_only_the_run_that_started_building_completes_it(warehouse):
    start_building(warehouse, "run-a", "inputs-1")
    # A report made in a run of its own (the UI, a re-execution of that step) completes nothing.
    assert not finish_building(warehouse, "run-b")
    assert built_fingerprint(warehouse, COMPLETE_STEP) == ""
    assert finish_building(warehouse, "run-a")
    assert built_fingerprint(warehouse, COMPLETE_STEP) == "run-a inputs-1"
    # The next build forgets the complete record until it completes itself: a failure in between leaves
    # nothing complete, so the run after it builds again.
    start_building(warehouse, "run-c", "inputs-2")
    assert built_fingerprint(warehouse, COMPLETE_STEP) == ""
