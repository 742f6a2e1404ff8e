"""Shared fixtures: an isolated data directory and the tiny hand-computed landing set."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.settings import Settings
from tests.fixtures import write_tiny_landing


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings pointing every path into tmp_path, with the environment restored afterwards."""
    monkeypatch.setenv("RETENTION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RETENTION_WAREHOUSE", str(tmp_path / "data" / "warehouse.duckdb"))
    monkeypatch.setenv("RETENTION_LANDING_DIR", str(tmp_path / "data" / "landing"))
    monkeypatch.setenv("RETENTION_SOURCES_FILE", str(tmp_path / "sources.yml"))
    monkeypatch.delenv("RETENTION_AS_OF_DATE", raising=False)
    return Settings.from_env()


@pytest.fixture
def tiny_landing(settings: Settings) -> Path:
    """The tiny landing directory of tests.fixtures, written into the settings' landing dir."""
    return write_tiny_landing(settings.landing_dir)


@pytest.fixture
def warehouse(tmp_path: Path):
    """A fresh writable DuckDB warehouse file, closed afterwards."""
    con = duckdb.connect(str(tmp_path / "test.duckdb"))
    con.execute("SET TimeZone = 'UTC'")
    yield con
    con.close()
