"""The dbt project and the dbt CLI resource that runs it."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

from dagster_dbt import DbtCliResource, DbtProject

from orchestration.settings import DBT_PROJECT_DIR


def ensure_dbt_on_path() -> None:
    """Put this Python environment's bin folder on PATH when `dbt` is not found there.

    dagster-dbt runs `dbt` from PATH (also when it parses the project under
    `dagster dev`); calling .venv/bin/dagster or .venv/bin/retention without
    activating the venv must still find the venv's dbt.
    """
    bin_dir = Path(sys.executable).parent
    if shutil.which("dbt") is None and (bin_dir / "dbt").exists():
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"


def manifest_is_stale(project: DbtProject) -> bool:
    """Whether the manifest is missing or older than a file of the dbt project (model, macro, YAML...)."""
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [project.project_dir / "dbt_project.yml", project.project_dir / "profiles.yml"]
    for folder in ("models", "macros", "seeds", "tests"):
        sources += (project.project_dir / folder).rglob("*")
    return any(path.is_file() and path.stat().st_mtime > built for path in sources)


ensure_dbt_on_path()
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()
if manifest_is_stale(dbt_project):
    # Outside `dagster dev` (a fresh clone, the CLI, the tests) nobody parses the
    # project: parse it when it changed, so the assets never load an old graph.
    dbt_project.preparer.prepare(dbt_project)


def project_var(name: str) -> Any:
    """The default of a dbt var as dbt_project.yml sets it (e.g. reporting_currency)."""
    config = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return config["vars"][name]


def dbt_cli_resource() -> DbtCliResource:
    """Return the dbt CLI resource, with the profiles kept inside the project."""
    return DbtCliResource(project_dir=dbt_project, profiles_dir=str(dbt_project.project_dir))
