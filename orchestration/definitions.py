"""The one Definitions object of the project (`dagster dev -w workspace.yaml` loads it)."""

from __future__ import annotations

import dagster as dg

from orchestration.assets import crm, orders, surveys
from orchestration.assets.dbt import retention_dbt_models
from orchestration.jobs.refresh import daily_refresh_schedule, new_landing_files_sensor, refresh_warehouse_job
from orchestration.resources import build_resources
from orchestration.resources.warehouse import WRITES_WAREHOUSE_TAG
from orchestration.settings import Settings

# One warehouse writer at a time inside a run (DuckDB allows one writing
# process); steps that do not write the warehouse may still run in parallel.
warehouse_safe_executor = dg.multiprocess_executor.configured(
    {
        "tag_concurrency_limits": [
            {"key": key, "value": value, "limit": 1} for key, value in WRITES_WAREHOUSE_TAG.items()
        ]
    }
)


def build_definitions(settings: Settings) -> dg.Definitions:
    """Return the project's Definitions for these settings."""
    return dg.Definitions(
        assets=[*dg.load_assets_from_modules([crm, orders, surveys]), retention_dbt_models],
        jobs=[refresh_warehouse_job],
        schedules=[daily_refresh_schedule],
        sensors=[new_landing_files_sensor],
        resources=build_resources(settings),
        executor=warehouse_safe_executor,
    )


defs = build_definitions(Settings.from_env())
