"""One blocking check per staging model: received = staged + quarantined + duplicates (quality/reconciliation.py).

It records the counts of the run in quality.reconciliation, so it writes
in the run that holds the warehouse, like the assets.
"""

import dagster as dg

from ingestion.contract import ENTITIES, Entity, staging_model
from orchestration.resources.marts import MartSettings
from orchestration.resources.warehouse import DuckDBWarehouse
from quality.reconciliation import TABLE, reconcile, record
from quality.rules.staging import STAGING_SCHEMA


def build_reconciliation_check(entity: Entity) -> dg.AssetChecksDefinition:
    """The check `reconciles_with_raw` on the asset staging/stg_<source>__<entity>."""

    @dg.asset_check(
        asset=dg.AssetKey([STAGING_SCHEMA, staging_model(entity)]),
        name="reconciles_with_raw",
        blocking=True,
        description=f"Rows received in raw.{entity.name} = rows in staging + quarantined + exact duplicates + "
                    f"superseded versions; the counts of every run are appended to {TABLE}. Blocking.",
    )
    def reconciles_with_raw(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse,
                            mart_settings: MartSettings) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            counts = reconcile(con, entity, recount=mart_settings.full_refresh)
            record(con, context.run.run_id, counts)
        return dg.AssetCheckResult(
            passed=counts.balances,
            severity=dg.AssetCheckSeverity.ERROR,
            description=counts.describe(),
            metadata={
                "received": counts.received, "staged": counts.staged, "quarantined": counts.quarantined,
                "exact duplicates": counts.exact_duplicates, "superseded versions": counts.superseded,
                "rows of earlier file versions": counts.earlier_file_versions,
                "unaccounted": counts.received - counts.accounted, "recorded in": TABLE,
            },
        )

    return reconciles_with_raw


reconciliation_checks = [build_reconciliation_check(entity) for entity in ENTITIES.values()]
