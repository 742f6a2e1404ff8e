"""The one Definitions object of the project (`dagster dev -w workspace.yaml` loads it)."""

from __future__ import annotations

import dagster as dg

from orchestration.assets import crm, orders, surveys
from orchestration.assets.dbt import dbt_customer_360, dbt_marts, dbt_staging
from orchestration.assets.predictive import customer_predictions
from orchestration.assets.quarantine import bad_share_checks, quarantine_assets
from orchestration.assets.report import retention_report
from orchestration.assets.serving import published_marts
from orchestration.checks.mart_rules import mart_rules_checks
from orchestration.checks.raw_rules import raw_rules_checks
from orchestration.checks.reconciliation import reconciliation_checks
from orchestration.checks.staging_rules import staging_rules_checks
from orchestration.jobs.refresh import daily_refresh_schedule, new_landing_files_sensor, refresh_warehouse_job
from orchestration.resources import build_resources
from orchestration.runs.nothing_new import quiet_skipped_checks
from orchestration.settings import Settings

# Steps run one after another in the run's own process. DuckDB lets only one
# process write the file and no other process read it meanwhile, so steps in
# separate processes could not overlap anyway; they would only pay a process
# start (about ten seconds here) each. Parallelism lives inside DuckDB and dbt.
warehouse_safe_executor = dg.in_process_executor


def build_definitions(settings: Settings) -> dg.Definitions:
    """Return the project's Definitions for these settings."""
    quiet_skipped_checks()
    return dg.Definitions(
        assets=[*dg.load_assets_from_modules([crm, orders, surveys]), *quarantine_assets, dbt_staging, dbt_marts,
                customer_predictions, dbt_customer_360, published_marts, retention_report],
        asset_checks=[*raw_rules_checks, *bad_share_checks, *staging_rules_checks, *reconciliation_checks,
                      *mart_rules_checks],
        jobs=[refresh_warehouse_job],
        schedules=[daily_refresh_schedule],
        sensors=[new_landing_files_sensor],
        resources=build_resources(settings),
        executor=warehouse_safe_executor,
    )


defs = build_definitions(Settings.from_env())
