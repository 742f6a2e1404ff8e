"""Whether the layers after the quarantine have anything to do in this run.

A run that finds nothing new (no file content or database row the manifest
has not seen, no key whose outcome changed) and whose definitions, settings
and code are those of the last complete run would build the very same
staging tables, marts, checks, publication and report again. It does no such
work: the first model step (dbt_staging) yields nothing, and Dagster skips
every step after it, since their inputs were not produced.

What the model layers' results depend on, besides the data, is summed up in
one hash, the *model inputs*: the latest source batch of the change log (every
load and every key whose outcome changed logs one), the dbt definitions'
fingerprint (models, macros, seeds, dbt_project.yml, the vars a run
overrides, the PII key as an HMAC), the as-of date when one is set, the
settings of the predictions and of the publication, the project's own
Python code, the dbt data tests and the engines' versions. The first model
step that builds records them as pending for its run (and forgets the last
complete ones); the report, the last step, promotes them to complete only
in that same run. A run skips only when its inputs equal the complete ones
and the serving file holds that run's publication. So a run killed while
publishing, a failed check, or a run of a few assets picked in the UI
(which has no pending record of its own) leaves nothing complete, and the
next run does the work again. `retention run --full-refresh` never skips.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from functools import cache

import duckdb

from ingestion.raw.changes import built_fingerprint, latest_source_change, remember_fingerprint
from orchestration.resources.dbt import RetentionDbtCliResource
from orchestration.resources.marts import MartSettings
from orchestration.resources.predictions import PredictionSettings
from orchestration.resources.report import RetentionReport
from orchestration.resources.serving import ServingStore
from orchestration.serving.publish import read_publication
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

# Under these names raw._built_definitions keeps "<run id> <model inputs>": of the run building the model
# layers now (pending), and of the last run that built, published and reported them all (complete).
PENDING_STEP = "model layers (pending)"
COMPLETE_STEP = "model layers"
CODE_PACKAGES = ("ingestion", "orchestration", "quality")
# Packages whose version may change what the model layers compute or check.
ENGINE_PACKAGES = ("duckdb", "dbt-core", "dbt-duckdb", "great-expectations", "numpy", "scipy")
@cache
def code_fingerprint() -> str:
    """A hash of the project's Python code, the dbt project's data tests and the engines' versions."""
    digest = hashlib.sha256()
    files = [path for package in CODE_PACKAGES for path in sorted((PROJECT_ROOT / package).rglob("*.py"))]
    files += sorted(path for path in (DBT_PROJECT_DIR / "tests").rglob("*") if path.is_file())
    for path in files:
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    for package in ENGINE_PACKAGES:
        digest.update(f"{package}=={importlib.metadata.version(package)}\0".encode())
    return digest.hexdigest()


def model_inputs(con: duckdb.DuckDBPyConnection, dbt: RetentionDbtCliResource, mart_settings: MartSettings,
                 prediction_settings: PredictionSettings, serving: ServingStore) -> str:
    """The hash of everything the layers after the quarantine depend on (see the module docstring)."""
    settings = {
        "data": latest_source_change(con),
        "definitions": dbt.definitions_fingerprint(mart_settings.dbt_vars()),
        "as_of_date": mart_settings.as_of_date,
        "predictions": [prediction_settings.horizon_months, prediction_settings.margin,
                        prediction_settings.annual_discount_rate, prediction_settings.holdout_weeks,
                        prediction_settings.refit_days],
        "publish_contacts": serving.publish_contacts,
        "code": code_fingerprint(),
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def nothing_to_do(con: duckdb.DuckDBPyConnection, inputs: str, serving: ServingStore, report: RetentionReport
                  ) -> bool:
    """Whether the last complete run built the model layers from exactly these inputs, and what readers see
    is that run's: the serving file holds its publication and the report exists."""
    complete = built_fingerprint(con, COMPLETE_STEP)
    if complete is None or complete.split(" ", 1)[-1] != inputs or not report.path.exists():
        return False
    published = read_publication(serving.path)
    return published is not None and published.run_id == complete.split(" ", 1)[0]


def start_building(con: duckdb.DuckDBPyConnection, run_id: str, inputs: str) -> None:
    """Record that `run_id` builds the model layers from `inputs`; until it completes, no run skips them."""
    con.execute("BEGIN TRANSACTION")
    remember_fingerprint(con, PENDING_STEP, f"{run_id} {inputs}")
    remember_fingerprint(con, COMPLETE_STEP, "")
    con.execute("COMMIT")


def finish_building(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    """Record the pending inputs as complete when this run started building them (it has now reported);
    False when it did not (a report made in a run of its own completes nothing)."""
    pending = built_fingerprint(con, PENDING_STEP)
    if not pending or pending.split(" ", 1)[0] != run_id:
        return False
    remember_fingerprint(con, COMPLETE_STEP, pending)
    return True
