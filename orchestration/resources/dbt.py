"""The dbt project and the dbt CLI resource that runs it."""

from __future__ import annotations

import hashlib
import hmac
import importlib.metadata
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from packaging import version
from pydantic import PrivateAttr

from ingestion.contract import ENTITIES, dbt_vars
from ingestion.database.config import database_sources
from ingestion.landing.discovery import landing_files
from ingestion.mapping.spec import mapped_sources
from ingestion.pii import (
    DBT_SECRET_VARIABLE,
    DEMO_KEY,
    KEY_ENVIRONMENT_VARIABLE,
    KEY_HINT,
    key_problem,
)
from ingestion.raw.manifest import manifest_loads
from orchestration.settings import DBT_PROJECT_DIR, Settings
from orchestration.warm_dbt import WarmDbt


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


@cache
def retention_dbt_project() -> DbtProject:
    """The dbt project, its manifest parsed when it is missing or older than the project's files.

    Built on first use, not on import. Outside `dagster dev` (a fresh clone, the
    CLI, the tests) nobody else parses the project, so a changed project is
    parsed here, and the assets never load an old graph.
    """
    ensure_dbt_on_path()
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    project.prepare_if_dev()
    if manifest_is_stale(project):
        project.preparer.prepare(project)
    return project


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
    project = retention_dbt_project()
    shared_target = shared_target or Path(project.project_dir) / project.target_path
    shared = shared_target / "partial_parse.msgpack"
    staged = shared.with_name(f".{shared.name}.{os.getpid()}")
    shutil.copyfile(state, staged)
    os.replace(staged, shared)


def project_var(name: str) -> Any:
    """The default of a dbt var as dbt_project.yml sets it (e.g. reporting_currency)."""
    return dbt_vars()[name]


class PiiKeyMissing(ValueError):
    """Real data without a PII key of its own: the message says how to set one."""


def resolve_pii_key(key: str | None, landing_dir: Path, sources_file: Path | None,
                    warn: Callable[[str], None] = lambda _: None,
                    loaded: list[tuple[str, str, str | None]] = ()) -> str:
    """The key that pseudonymises this run's contact data.

    `key` (RETENTION_PII_KEY) when it is fit for real data. Without one, only
    the generated demo data may run, with the published demo key (a warning
    says so): the landing files and every load in the warehouse (`loaded`,
    from its manifest) must be the demo's own. Anything else raises PiiKeyMissing.
    """
    problem = key_problem(key)
    if problem is None:
        return key
    from ingestion.demo import is_demo_data

    files = [f.path for entity in ENTITIES for f in landing_files(landing_dir, entity)[0]]
    if not database_sources(sources_file) and not mapped_sources(sources_file) and is_demo_data(landing_dir, files,
                                                                                               loaded):
        warn(f"{problem}: the demo data is pseudonymised with the published demo key; "
             "real data needs a key of its own")
        return DEMO_KEY
    raise PiiKeyMissing(
        f"{problem}, and the data is not only the generated demo files ({landing_dir} or the warehouse holds "
        f"other data): contact details (e-mail, phone) cannot be pseudonymised safely without a secret key. "
        f"To run, {KEY_HINT}")


@contextmanager
def environment_for_child(values: Mapping[str, str]) -> Iterator[None]:
    """Add `values` to the environment while a child process is started, then restore it.

    dagster-dbt builds the dbt process's environment from os.environ and has
    no parameter for it: this is how a resource hands dbt its settings (the
    warehouse path, the key as dbt's secret variable) for the one child that
    needs them, instead of setting them for the whole process and reading
    them back.
    """
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# Vars whose change no incremental model needs to rebuild for (see definitions_fingerprint).
FINGERPRINT_FREE_VARS = frozenset({"as_of_date"})


class RetentionDbtCliResource(DbtCliResource):
    """The dbt CLI resource: the project's profile pointed at this deployment's warehouse, with its PII key.

    It also knows the dbt version from package metadata instead of asking
    `dbt --version` before every command: dagster-dbt does that to tell dbt
    Core from the Fusion engine, which starts dbt and asks PyPI for the latest
    release, 3.5 s each time, three times a run; here dbt Core is a pinned
    dependency of this environment. And it opens no dbt adapter in the
    Dagster process: dagster-dbt loads the profile and parses every macro
    before each command (2.3 s for the first, 1 s for each next) for
    `fetch_row_counts` and `fetch_column_metadata`, which these assets do not
    call (their metadata comes from the warehouse: table_metadata). Its
    commands start from a warm dbt process that the run starts with its
    first step (orchestration/warm_dbt.py): dbt's imports, 1.8 s of CPU a
    command, are done once a run, while the raw files load.
    """

    warehouse_path: str
    memory_limit: str | None = None
    # An EnvVar (RETENTION_PII_KEY) when set: Dagster then shows its name, never its value.
    pii_key: str | None = None
    landing_dir: str = ""
    sources_file: str | None = None
    _resolved_key: str | None = PrivateAttr(default=None)
    _warm: WarmDbt = PrivateAttr(default_factory=WarmDbt)

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Any) -> None:
        """No adapter in this process (see the class docstring); the invocation then carries none."""
        return None

    def setup_for_execution(self, context) -> None:
        """Refuse real data without a PII key before any step runs (see resolve_pii_key)."""
        super().setup_for_execution(context)
        sources = Path(self.sources_file) if self.sources_file else None
        self._resolved_key = resolve_pii_key(self.pii_key, Path(self.landing_dir), sources, warn=context.log.warning)
        self._warm.start()

    def teardown_after_execution(self, context) -> None:
        """End the run's warm dbt process."""
        self._warm.stop()
        super().teardown_after_execution(context)

    def dbt_environment(self) -> dict[str, str]:
        """What the dbt process reads from its environment (profiles.yml)."""
        values = {"RETENTION_WAREHOUSE": self.warehouse_path, **self._warm.environment()}
        if self.memory_limit:
            values["RETENTION_DUCKDB_MEMORY_LIMIT"] = self.memory_limit
        if self._resolved_key:
            values[DBT_SECRET_VARIABLE] = self._resolved_key
        return values

    def definitions_fingerprint(self, dbt_vars: Mapping[str, str]) -> str:
        """A hash of everything besides the data that the incremental models' rows depend on.

        The project's files (models, macros, seeds, dbt_project.yml with its
        vars and source contract), the vars this run overrides and the PII
        key (as an HMAC: the key itself never reaches the hash's readers).
        Not the as-of date: no incremental model reads it (int_orders, which
        filters by it, is a view; the models after it are tables rebuilt every run). A dbt step whose fingerprint
        differs from its last successful build's runs with --full-refresh.
        """
        digest = hashlib.sha256()
        project_dir = Path(self.project_dir)
        files = [project_dir / "dbt_project.yml"]
        for folder in ("models", "macros", "seeds"):
            files += sorted(path for path in (project_dir / folder).rglob("*") if path.is_file())
        for path in files:
            digest.update(str(path.relative_to(project_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
        overrides = {name: value for name, value in dbt_vars.items() if name not in FINGERPRINT_FREE_VARS}
        digest.update(json.dumps(overrides, sort_keys=True).encode())
        if self._resolved_key:
            digest.update(hmac.new(self._resolved_key.encode(), b"definitions fingerprint", hashlib.sha256).digest())
        return digest.hexdigest()

    def cli(self, args: list[str], **kwargs: Any):
        """dbt, started with this deployment's environment (see environment_for_child).

        With the demo key, the warehouse's loads are checked too (its rows
        outlive their landing files): real data loaded before refuses it.
        """
        if self._resolved_key == DEMO_KEY:
            sources = Path(self.sources_file) if self.sources_file else None
            resolve_pii_key(self.pii_key, Path(self.landing_dir), sources,
                            loaded=manifest_loads(Path(self.warehouse_path)))
        with environment_for_child(self.dbt_environment()):
            return super().cli(args, **kwargs)


def warm_dbt_executable() -> str:
    """`retention-dbt` of this environment (dbt through the warm process), else plain `dbt`."""
    client = Path(sys.executable).with_name("retention-dbt")
    return str(client) if client.exists() else "dbt"


def dbt_cli_resource(settings: Settings) -> DbtCliResource:
    """Return the dbt CLI resource for these settings, with the profiles kept inside the project."""
    project = retention_dbt_project()
    return RetentionDbtCliResource(
        project_dir=project, profiles_dir=str(project.project_dir), dbt_executable=warm_dbt_executable(),
        warehouse_path=str(settings.warehouse_path),
        memory_limit=settings.duckdb_memory_limit,
        pii_key=dg.EnvVar(KEY_ENVIRONMENT_VARIABLE) if settings.pii_key else None,
        landing_dir=str(settings.landing_dir),
        sources_file=str(settings.sources_file) if settings.sources_file else None,
    )
