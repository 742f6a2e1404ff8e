"""Readers in other processes query the serving file while a full run publishes a new version.

Version A is the tiny landing set (5 order rows up to T, 136.00 of completed
revenue); version B adds two completed orders, O8 (10.00) and O9 (14.00), so
T moves to May 3 and the pending O6 of April 6 enters fct_orders: 8 rows,
160.00. Every answer a reader gets must be all of A or all of B.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.runs.refresh import run_refresh
from orchestration.settings import PROJECT_ROOT
from tests.fixtures import write_more_orders
from tests.serving_reader import snapshot

pytestmark = pytest.mark.slow


def published_version(serving: Path) -> dict:
    """What a new read-only connection sees now."""
    with duckdb.connect(str(serving), read_only=True) as con:
        return snapshot(con)


def start_reader(serving: Path, out: Path, stop: Path, mode: str) -> subprocess.Popen:
    """A reader process (tests/serving_reader.py), once it has answered its first query."""
    reader = subprocess.Popen([sys.executable, "-m", "tests.serving_reader", str(serving), str(out), str(stop), mode],
                              cwd=PROJECT_ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out.exists() and out.read_text(encoding="utf-8").strip()):
        assert reader.poll() is None, reader.stderr.read()
        assert time.monotonic() < deadline, "the reader did not answer within a minute"
        time.sleep(0.1)
    return reader


def observations(out: Path) -> list[dict]:
    """The reader's answers, in order."""
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def version_of(answer: dict) -> tuple:
    """An answer without its time stamps: what version it shows."""
    return answer["run_id"], tuple(sorted(answer["rows"].items())), answer["revenue"]


def test_readers_see_one_whole_version_while_a_run_publishes(settings, tiny_run, tmp_path):
    first = tiny_run
    version_a = published_version(settings.serving_path)
    assert (version_a["run_id"], version_a["rows"]["fct_orders"], version_a["revenue"]) == (first.run_id, 5, "136.00")

    stop = tmp_path / "stop"
    logs = {mode: tmp_path / f"{mode}.jsonl" for mode in ("hold", "reconnect")}
    readers = {mode: start_reader(settings.serving_path, log, stop, mode) for mode, log in logs.items()}
    try:
        write_more_orders(settings.landing_dir)
        second = run_refresh(settings, persist_run=False)
        version_b = published_version(settings.serving_path)
    finally:
        stop.touch()
        for reader in readers.values():
            reader.wait(timeout=60)
    # The readers never stood in the run's way.
    assert second.success, second.failures
    assert (version_b["run_id"], version_b["rows"]["fct_orders"], version_b["revenue"]) == (second.run_id, 8, "160.00")
    assert version_a["rows"].keys() == version_b["rows"].keys()

    answers = {mode: observations(log) for mode, log in logs.items()}
    whole_versions = {version_of(version_a), version_of(version_b)}
    for mode, seen in answers.items():
        assert [a for a in seen if "error" in a] == [], mode
        assert {version_of(a) for a in seen} <= whole_versions, mode
    # A reader that reconnects moves from A to B once, and never back.
    runs = [a["run_id"] for a in answers["reconnect"]]
    switch = runs.index(second.run_id)
    assert set(runs[:switch]) == {first.run_id} and set(runs[switch:]) == {second.run_id}
    # Plenty of queries ran while the run built and published B.
    assert switch >= 20, f"only {switch} queries before the switch"
    # A held connection keeps the version it opened on, whole, until it reconnects.
    assert {a["run_id"] for a in answers["hold"]} == {first.run_id}
    assert len(answers["hold"]) >= 20
