"""One asset check per raw table: the raw suite of quality/suites.py, run by Great Expectations in DuckDB.

Severity: WARN for now. Rows that break a raw rule are typed to NULL in
staging (and the staging dbt tests stop the run where that breaks a key);
once the quarantine lands (issue 4) they move aside and this check turns
blocking above the allowed bad share.
"""

from pathlib import Path

import dagster as dg

from ingestion.contract import ENTITIES, Entity
from orchestration.resources.warehouse import WAREHOUSE_POOL, DuckDBWarehouse
from quality.rules.raw import raw_row_rules
from quality.suites import raw_suite
from quality.validation import failing_samples, validate_relation


def build_raw_rules_check(entity: Entity) -> dg.AssetChecksDefinition:
    """The check `raw_rules` on the asset raw/<entity>."""

    @dg.asset_check(
        asset=dg.AssetKey(["raw", entity.name]),
        name="raw_rules",
        # A reader, but DuckDB refuses readers in other processes while one writes: same pool.
        pool=WAREHOUSE_POOL,
        description=f"Great Expectations suite raw.{entity.name}: contract columns present, keys present, "
                    "timestamps parse and are not in the future, amounts numeric and not negative, "
                    "survey scores on their scale.",
    )
    def raw_rules(warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
        path = Path(warehouse.path)
        outcome = validate_relation(path, entity.raw_table, raw_suite(entity.name))
        failed_rules = [o.rule for o in outcome.failed if o.rule]
        rules = [rule for rule in raw_row_rules(entity.name) if rule.name in failed_rules]
        metadata = {
            "expectations run": len(outcome.outcomes),
            "expectations failed": len(outcome.failed),
            "unexpected rows": dg.MetadataValue.json(
                {o.rule or o.description: o.unexpected_rows for o in outcome.outcomes if o.unexpected_rows}
            ),
            "failing values (sample)": dg.MetadataValue.json(failing_samples(path, entity.raw_table, rules)),
        }
        if not outcome.success:
            metadata["summary"] = dg.MetadataValue.md(outcome.summary())
        return dg.AssetCheckResult(passed=outcome.success, severity=dg.AssetCheckSeverity.WARN, metadata=metadata)

    return raw_rules


raw_rules_checks = [build_raw_rules_check(entity) for entity in ENTITIES.values()]
