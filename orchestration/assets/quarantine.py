"""The quarantine assets: per entity, the raw rows that break a raw rule, brought up to date every run.

Each depends on its raw table and on the quarantine of the entities it
references (a line of a quarantined order is quarantined too), and staging
reads raw without these rows. The check `bad_share_within_limit` stops the
run before staging when more rows are set aside than the limit allows.
"""

import dagster as dg

from ingestion.contract import ENTITIES, Entity
from orchestration.assets.table_metadata import table_metadata
from orchestration.resources.landing import LandingZone
from orchestration.resources.marts import MartSettings
from orchestration.resources.warehouse import DuckDBWarehouse
from quality.quarantine import (
    OWN_DEFECT_COLUMN,
    REASON_COLUMN,
    RULE_COLUMN,
    SCHEMA,
    QuarantineCounts,
    quarantine_counts,
    update_quarantine,
)
from quality.rules.raw import shown_raw_columns


def quarantine_key(entity: Entity) -> dg.AssetKey:
    """The asset key of an entity's quarantine table."""
    return dg.AssetKey([SCHEMA, entity.name])


def build_quarantine_asset(entity: Entity) -> dg.AssetsDefinition:
    """The asset that rebuilds quarantine.<entity> from all of raw."""
    parents = [ENTITIES[parent] for _, parent in entity.references]

    @dg.asset(
        key=quarantine_key(entity),
        group_name=SCHEMA,
        kinds={"duckdb"},
        # Orders also read their lines' raw rows (a completed order needs lines or a total).
        deps=[dg.AssetKey(["raw", entity.name]), *(quarantine_key(p) for p in parents),
              *([dg.AssetKey(["raw", "order_items"])] if entity.name == "orders" else [])],
        description=(
            f"Rows of raw.{entity.name} that break a raw rule (quality/rules), with _quarantine_rule and "
            "_quarantine_reason; each run judges the new loads and the rows whose outcome they can change "
            "(quality/quarantine.py). Staging reads raw without them."
        ),
    )
    def quarantine_entity(warehouse: DuckDBWarehouse, mart_settings: MartSettings) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            by_rule = update_quarantine(con, entity, full=mart_settings.full_refresh)
            counts = quarantine_counts(con, entity)
            metadata = {
                "rows received": dg.MetadataValue.int(counts.received),
                "rows quarantined": dg.MetadataValue.int(counts.quarantined),
                "quarantined share": dg.MetadataValue.float(round(counts.share, 6)),
                "rows per rule": dg.MetadataValue.json(by_rule),
                **table_metadata(con, SCHEMA, entity.name,
                                 shown=(*shown_raw_columns(entity.name), RULE_COLUMN, REASON_COLUMN, OWN_DEFECT_COLUMN)),
            }
        return dg.MaterializeResult(metadata=metadata)

    return quarantine_entity


def build_bad_share_check(entity: Entity) -> dg.AssetChecksDefinition:
    """Blocking check: the quarantined share of the entity stays within the configured limit."""

    @dg.asset_check(
        asset=quarantine_key(entity),
        name="bad_share_within_limit",
        blocking=True,
        description=f"quarantine.{entity.name} holds at most RETENTION_MAX_BAD_SHARE (default 1%) of the "
                    f"rows received in raw.{entity.name}; above it staging and the marts are not built.",
    )
    def bad_share_within_limit(warehouse: DuckDBWarehouse, landing: LandingZone) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            counts = quarantine_counts(con, entity)
        passed = counts.share <= landing.max_bad_share
        metadata = {
            "rows received": counts.received,
            "rows quarantined": counts.quarantined,
            "limit": landing.max_bad_share,
            "first quarantined rows": dg.MetadataValue.json(counts.examples),
        }
        if not passed:
            metadata["summary"] = dg.MetadataValue.md(describe_excess(counts, landing.max_bad_share))
        return dg.AssetCheckResult(passed=passed, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata)

    return bad_share_within_limit


def describe_excess(counts: QuarantineCounts, limit: float) -> str:
    """The failure line: table, share against the limit, and the first quarantined row."""
    example = counts.examples[0] if counts.examples else {}
    where = f"; e.g. {example['file']} row {example['row']}: {example['reason']}" if example else ""
    return (f"quarantine.{counts.entity}: {counts.quarantined:,} of {counts.received:,} rows ({counts.share:.2%}) "
            f"quarantined, more than the {limit:.2%} allowed{where}")


quarantine_assets = [build_quarantine_asset(entity) for entity in ENTITIES.values()]
bad_share_checks = [build_bad_share_check(entity) for entity in ENTITIES.values()]
