"""Shared fixtures: an isolated data directory and the tiny hand-computed landing set."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.runs.refresh import RunOutcome, run_refresh
from orchestration.settings import Settings
from tests.fixtures import TEST_PII_KEY, write_tiny_landing
from tests.probes import write_probes


def point_settings_at(root: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Set the environment so that every path lies in root/data; return those settings."""
    monkeypatch.setenv("RETENTION_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("RETENTION_WAREHOUSE", str(root / "data" / "warehouse.duckdb"))
    monkeypatch.setenv("RETENTION_LANDING_DIR", str(root / "data" / "landing"))
    monkeypatch.setenv("RETENTION_SOURCES_FILE", str(root / "sources.yml"))
    monkeypatch.delenv("RETENTION_AS_OF_DATE", raising=False)
    monkeypatch.setenv("RETENTION_PII_KEY", TEST_PII_KEY)
    return Settings.from_env()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings pointing every path into tmp_path, with the environment restored afterwards."""
    return point_settings_at(tmp_path, monkeypatch)


@pytest.fixture
def tiny_landing(settings: Settings) -> Path:
    """The tiny landing directory of tests.fixtures, written into the settings' landing dir."""
    return write_tiny_landing(settings.landing_dir)


@pytest.fixture(scope="session")
def tiny_run_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunOutcome]:
    """One full run on the tiny landing set per test session: its data directory and outcome.

    A full run takes most of a minute; tests that start from a completed run
    copy this one (fixture `tiny_run`) instead of repeating it.
    """
    root = tmp_path_factory.mktemp("tiny_run")
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = point_settings_at(root, monkeypatch)
        write_tiny_landing(settings.landing_dir)
        outcome = run_refresh(settings, persist_run=False)
    assert outcome.success, outcome.failures
    return settings.data_dir, outcome


@pytest.fixture
def tiny_run(settings: Settings, tiny_run_once: tuple[Path, RunOutcome]) -> RunOutcome:
    """The tiny landing set after one full run (landing, warehouse, serving file, report), copied into this
    test's data directory; returns that run's outcome."""
    data_dir, outcome = tiny_run_once
    # Paths inside the warehouse are relative to the landing dir, and the Parquet `current` link is relative.
    shutil.copytree(data_dir, settings.data_dir, symlinks=True)
    return outcome


@pytest.fixture(scope="session")
def probe_run_once(tiny_run_once: tuple[Path, RunOutcome],
                   tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunOutcome]:
    """The tiny run, then one run with the probe files of tests/probes.py (value probes and mapped exports),
    with the bad-share limit lifted: its root (data dir and sources file) and outcome."""
    root = tmp_path_factory.mktemp("probe_run")
    data_dir, _ = tiny_run_once
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = point_settings_at(root, monkeypatch)
        shutil.copytree(data_dir, settings.data_dir, symlinks=True)
        write_probes(settings.landing_dir, settings.sources_file)
        outcome = run_refresh(dataclasses.replace(settings, max_bad_share=1.0), persist_run=False)
    return root, outcome


@pytest.fixture
def probe_run(settings: Settings, probe_run_once: tuple[Path, RunOutcome]) -> RunOutcome:
    """The probe run (landing, warehouse, sources file) copied into this test's directories; its outcome."""
    root, outcome = probe_run_once
    shutil.copytree(root / "data", settings.data_dir, symlinks=True)
    shutil.copy(root / "sources.yml", settings.sources_file)
    return outcome


@pytest.fixture
def warehouse(tmp_path: Path):
    """A fresh writable DuckDB warehouse file, closed afterwards."""
    con = duckdb.connect(str(tmp_path / "test.duckdb"))
    con.execute("SET TimeZone = 'UTC'")
    yield con
    con.close()
