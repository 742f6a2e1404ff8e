"""The dbt project and the dbt CLI resource that runs it."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

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


ensure_dbt_on_path()
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()
if not dbt_project.manifest_path.exists():
    # Outside `dagster dev` (a fresh clone, the CLI, the tests) nobody has parsed
    # the project yet: parse it once so the manifest the assets load exists.
    dbt_project.preparer.prepare(dbt_project)


def dbt_cli_resource() -> DbtCliResource:
    """Return the dbt CLI resource, with the profiles kept inside the project."""
    return DbtCliResource(project_dir=dbt_project, profiles_dir=str(dbt_project.project_dir))
