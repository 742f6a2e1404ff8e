"""The dbt project and the dbt CLI resource that runs it."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import sys
from pathlib import Path
from functools import cached_property
from typing import Any

from packaging import version

from dagster_dbt import DbtCliResource, DbtProject

from ingestion.contract import dbt_vars
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


def keep_parse_state(invocation_target: Path, shared_target: Path | None = None) -> None:
    """Make an invocation's parse state the one the next dbt invocation starts from.

    dagster-dbt gives every invocation its own target folder and seeds it with
    target/partial_parse.msgpack. dbt throws that state away when the profile
    (here: the warehouse path) or the vars differ from the parse that wrote it,
    and parses the whole project again, about 6 s each time. The three dbt
    steps of a run share their profile and vars, so promoting the state of the
    first lets the other two (and the next run) parse only what changed. The
    copy is renamed into place, so a concurrent reader never sees half a file.
    """
    state = invocation_target / "partial_parse.msgpack"
    if not state.exists():
        return
    shared_target = shared_target or Path(dbt_project.project_dir) / dbt_project.target_path
    shared = shared_target / "partial_parse.msgpack"
    staged = shared.with_name(f".{shared.name}.{os.getpid()}")
    shutil.copyfile(state, staged)
    os.replace(staged, shared)


def project_var(name: str) -> Any:
    """The default of a dbt var as dbt_project.yml sets it (e.g. reporting_currency)."""
    return dbt_vars()[name]


class InstalledDbtCliResource(DbtCliResource):
    """The dbt CLI resource, told the dbt version instead of asking `dbt --version` before every command.

    dagster-dbt runs `dbt --version` before each invocation to tell dbt Core
    from the Fusion engine; that starts dbt and asks PyPI for the latest release,
    3.5 s each time, three times a run. Here dbt Core is a pinned dependency in
    this environment, so its package metadata answers the same question.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))


def dbt_cli_resource() -> DbtCliResource:
    """Return the dbt CLI resource, with the profiles kept inside the project."""
    return InstalledDbtCliResource(project_dir=dbt_project, profiles_dir=str(dbt_project.project_dir))
