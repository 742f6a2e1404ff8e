"""The dbt CLI resource: the dbt version from package metadata, the shared parse state, the definitions fingerprint."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess

from orchestration.assets.dbt import dbt_build_args
from orchestration.resources.dbt import (
    RetentionDbtCliResource,
    dbt_cli_resource,
    environment_for_child,
    keep_parse_state,
)
from orchestration.settings import DBT_PROJECT_DIR


def test_the_dbt_version_comes_from_the_installed_package_not_a_subprocess(settings, monkeypatch):
    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"dbt was started: {args}")

    monkeypatch.setattr(subprocess, "check_output", no_subprocess)
    resource = dbt_cli_resource(settings)
    assert str(resource._cli_version) == importlib.metadata.version("dbt-core")
    assert resource._cli_version.major == 1  # dbt Core, so dagster-dbt keeps its adapter handle


def test_an_invocations_parse_state_becomes_the_shared_one(tmp_path):
    shared = tmp_path / "target"
    shared.mkdir()
    (shared / "partial_parse.msgpack").write_bytes(b"state of an older parse")
    invocation = shared / "dbt_marts-1234567-abcdef0"
    invocation.mkdir()
    (invocation / "partial_parse.msgpack").write_bytes(b"state of this run's parse")

    keep_parse_state(invocation, shared)

    assert (shared / "partial_parse.msgpack").read_bytes() == b"state of this run's parse"
    assert sorted(p.name for p in shared.iterdir()) == ["dbt_marts-1234567-abcdef0", "partial_parse.msgpack"]


def test_an_invocation_without_parse_state_changes_nothing(tmp_path):
    (tmp_path / "partial_parse.msgpack").write_bytes(b"kept")
    keep_parse_state(tmp_path / "failed-invocation", tmp_path)
    assert (tmp_path / "partial_parse.msgpack").read_bytes() == b"kept"


def test_the_shared_state_is_where_dagster_dbt_seeds_invocations_from():
    # dagster-dbt copies <project>/<its target path>/partial_parse.msgpack into each new invocation folder.
    from dagster_dbt.core.dbt_cli_invocation import PARTIAL_PARSE_FILE_NAME, _get_dbt_target_path

    from orchestration.resources.dbt import retention_dbt_project

    dbt_project = retention_dbt_project()
    assert PARTIAL_PARSE_FILE_NAME == "partial_parse.msgpack"
    assert dbt_project.project_dir / _get_dbt_target_path() == dbt_project.project_dir / dbt_project.target_path


def test_the_dbt_process_gets_its_settings_and_this_process_keeps_none_of_them(monkeypatch):
    monkeypatch.setenv("RETENTION_WAREHOUSE", "/kept/as/it/was.duckdb")
    monkeypatch.delenv("DBT_ENV_SECRET_RETENTION_PII_KEY", raising=False)
    with environment_for_child({"RETENTION_WAREHOUSE": "/w.duckdb", "DBT_ENV_SECRET_RETENTION_PII_KEY": "k" * 20}):
        seen = subprocess.run(["sh", "-c", "echo $RETENTION_WAREHOUSE $DBT_ENV_SECRET_RETENTION_PII_KEY"],
                              capture_output=True, text=True, check=True).stdout
    assert seen == f"/w.duckdb {'k' * 20}\n"
    assert os.environ["RETENTION_WAREHOUSE"] == "/kept/as/it/was.duckdb"
    assert "DBT_ENV_SECRET_RETENTION_PII_KEY" not in os.environ


def test_the_definitions_fingerprint_follows_models_vars_and_the_key_but_not_the_as_of_date(tmp_path):
    """What decides a full refresh of the incremental models (orchestration/assets/dbt.py)."""
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    resource = RetentionDbtCliResource(project_dir=str(project), profiles_dir=str(project), warehouse_path="w.duckdb")
    resource._resolved_key = "a" * 48

    base = resource.definitions_fingerprint({"as_of_date": "2025-12-31"})
    assert resource.definitions_fingerprint({"as_of_date": "2024-01-31"}) == base  # T: no incremental model reads it
    assert resource.definitions_fingerprint({"as_of_date": "2025-12-31", "reporting_currency": "EUR"}) != base
    resource._resolved_key = "b" * 48
    assert resource.definitions_fingerprint({"as_of_date": "2025-12-31"}) != base  # new pseudonyms everywhere
    resource._resolved_key = "a" * 48
    model = project / "models" / "staging" / "crm" / "stg_crm__customers.sql"
    model.write_text(model.read_text() + "\n-- an edit\n")
    assert resource.definitions_fingerprint({"as_of_date": "2025-12-31"}) != base


def test_a_full_refresh_reaches_dbt():
    assert dbt_build_args({}, full_refresh=True)[:2] == ["build", "--full-refresh"]
    assert "--full-refresh" not in dbt_build_args({"as_of_date": "2025-12-31"})
