"""The dbt CLI resource's two shortcuts: the dbt version from package metadata, and the shared parse state."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess

from orchestration.resources.dbt import dbt_cli_resource, environment_for_child, keep_parse_state


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
