"""The dbt project as Dagster assets: seeds, staging, intermediate and mart models, tests as checks."""

import json
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, dbt_assets

from ingestion.raw.changes import built_fingerprint, remember_fingerprint
from orchestration.assets.model_state import model_inputs, nothing_to_do, start_building
from orchestration.resources.dbt import RetentionDbtCliResource, keep_parse_state, retention_dbt_project
from orchestration.resources.marts import MartSettings
from orchestration.resources.predictions import PredictionSettings
from orchestration.resources.report import RetentionReport
from orchestration.resources.serving import ServingStore
from orchestration.resources.warehouse import DuckDBWarehouse
from orchestration.runs.nothing_new import NOTHING_NEW, NOTHING_NEW_RUNS


class RetentionDbtTranslator(DagsterDbtTranslator):
    """Maps dbt nodes onto the warehouse's asset keys: [schema, table].

    A dbt source `crm.customers` reads raw.customers, so its key is
    ["raw", "customers"]: the very asset the ingestion loads, which joins
    ingestion and dbt into one graph (the quarantine sources likewise map to
    the quarantine assets). Models and seeds are keyed by the schema they
    build into (staging, intermediate, marts, reference) and grouped by it.
    """

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        """Return [schema, name]: the table's place in the warehouse, for sources, seeds and models alike."""
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """Return the layer (the schema) as the asset group."""
        return dbt_resource_props["schema"]


def dbt_build_args(dbt_vars: Mapping[str, str], select: str | None = None, full_refresh: bool = False) -> list[str]:
    """Return the dbt CLI arguments of a build with these vars (sorted, so runs are reproducible)."""
    args = ["build", *(["--full-refresh"] if full_refresh else [])]
    if dbt_vars:
        args += ["--vars", json.dumps(dict(sorted(dbt_vars.items())))]
    if select:
        args += ["--select", select]
    return args


# The dbt project runs as two steps, so that checks on the staging layer can
# stop the build of the marts (a blocking check holds back downstream steps,
# not the rest of its own step): staging models and seeds first, then the
# intermediate models and the marts with the METRICS.md invariant tests.
# The marts that read the Python predictions (marts/customer_predictions, fitted
# on the order fact the second step builds) come in a third step after them.
STAGING_SELECTION = "path:models/staging path:seeds"
CUSTOMER_360_SELECTION = "churn_risk dim_customers"
MARTS_SELECTION = "path:models/intermediate path:models/marts path:models/restricted"


REPORT_KEY = dg.AssetKey(["report", "retention_report"])


def build_dbt_assets(name: str, select: str, exclude: str | None = None,
                     first_model_step: bool = False) -> dg.AssetsDefinition:
    """The dbt nodes selected by `select` (minus `exclude`), built (run and tested) in one step named `name`.

    The `first_model_step` does nothing when the run has nothing new for the model layers
    (orchestration/assets/model_state.py); the steps after it are then skipped.
    """

    project = retention_dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=RetentionDbtTranslator(),
        select=select,
        exclude=exclude,
        name=name,
    )
    def dbt_layer(
        context: dg.AssetExecutionContext,
        dbt: RetentionDbtCliResource,
        warehouse: DuckDBWarehouse,
        mart_settings: MartSettings,
        prediction_settings: PredictionSettings,
        serving: ServingStore,
        report: RetentionReport,
    ) -> Iterator[Any]:
        if first_model_step:
            with warehouse.connect() as con:
                inputs = model_inputs(con, dbt, mart_settings, prediction_settings, serving)
                unchanged = (not mart_settings.full_refresh and builds_everything(context)
                             and nothing_to_do(con, inputs, serving, report))
                if not unchanged:
                    start_building(con, context.run.run_id, inputs)
            if unchanged:
                NOTHING_NEW_RUNS.add(context.run.run_id)
                first_key = min(context.selected_asset_keys, key=lambda key: key.to_user_string())
                context.log_event(dg.AssetObservation(asset_key=first_key, metadata={NOTHING_NEW: True}))
                context.log.info(f"{name}: nothing new since the last complete run (no new data, the same "
                                 "definitions, settings and code): staging, marts, their checks, the publication "
                                 "and the report stay as they are")
                return
        # Incremental models redo only changed keys; new definitions (a model, a seed, a var, the PII key)
        # or --full-refresh rebuild them whole. The fingerprint is kept only once the build has succeeded.
        fingerprint = dbt.definitions_fingerprint(mart_settings.dbt_vars())
        with warehouse.connect() as con:
            full_refresh = mart_settings.full_refresh or built_fingerprint(con, name) != fingerprint
        if full_refresh:
            context.log.info(f"{name}: full refresh ({'asked for' if mart_settings.full_refresh else 'new definitions'})")
        # The dbt resource points dbt's profile at the warehouse this run holds; the run notes the dbt
        # process, so that a successor can stop it if this run is killed alone.
        invocation = dbt.cli(dbt_build_args(mart_settings.dbt_vars(), full_refresh=full_refresh), context=context)
        warehouse.started_child(invocation.process.pid)
        yield from invocation.stream()
        keep_parse_state(invocation.target_path)
        with warehouse.connect() as con:
            remember_fingerprint(con, name, fingerprint)

    return dbt_layer


def builds_everything(context: dg.AssetExecutionContext) -> bool:
    """Whether the run materialises the whole graph up to the report (not a few assets picked in the UI)."""
    selection = context.run.asset_selection
    # None or empty: the whole job (as `retention run` executes it); else the keys a run was started for.
    return not selection or REPORT_KEY in selection


dbt_staging = build_dbt_assets("dbt_staging", STAGING_SELECTION, first_model_step=True)
dbt_marts = build_dbt_assets("dbt_marts", MARTS_SELECTION, exclude=CUSTOMER_360_SELECTION)
dbt_customer_360 = build_dbt_assets("dbt_customer_360", CUSTOMER_360_SELECTION)
