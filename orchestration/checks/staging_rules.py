"""One blocking asset check per staging model: unique keys, references that resolve, one currency.

A failure stops the marts (the dbt_marts step waits for these checks). Each
run examines the rows whose key, or whose parent's key, the change log names
since the check last passed (quality/slices.py), the whole model after new
definitions or rules.
"""

import dagster as dg

from ingestion.contract import ENTITIES, Entity, staging_model
from orchestration.checks.suite_check import build_suite_check
from quality.rules.staging import STAGING_SCHEMA, staging_relation, staging_rules
from quality.slices import ChangedKeys


def build_staging_rules_check(entity: Entity) -> dg.AssetChecksDefinition:
    """The check `staging_rules` on the asset staging/stg_<source>__<entity>."""
    return build_suite_check(
        asset_key=dg.AssetKey([STAGING_SCHEMA, staging_model(entity)]),
        name="staging_rules",
        relation=staging_relation(entity),
        rules=lambda settings: staging_rules(entity, settings.reporting_currency),
        examines=ChangedKeys(entity, staging_relation(entity), built_by="dbt_staging"),
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"Great Expectations suite {staging_relation(entity)}: one row per key, every reference "
                    "resolves in staging, orders in one currency (or converted by reference.fx_rates). Blocking.",
    )


staging_rules_checks = [build_staging_rules_check(entity) for entity in ENTITIES.values()]
