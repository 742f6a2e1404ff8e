"""The serving asset: after every mart and its checks, publish the marts atomically for readers."""

from pathlib import Path

import dagster as dg

from orchestration.assets.dbt import dbt_customer_360, dbt_marts
from orchestration.assets.predictive import customer_predictions
from orchestration.resources.serving import ServingStore
from orchestration.resources.warehouse import DuckDBWarehouse
from orchestration.serving.publish import (
    MARTS_SCHEMA,
    RESTRICTED_SCHEMA,
    publish_marts,
    publish_restricted,
    withdraw_restricted,
)

MART_KEYS = sorted(
    (key for assets in (dbt_marts, dbt_customer_360, customer_predictions) for key in assets.keys
     if key.path[0] in (MARTS_SCHEMA, RESTRICTED_SCHEMA)),
    key=lambda key: key.to_user_string(),
)


@dg.asset(
    key=["serving", "marts"],
    group_name="serving",
    kinds={"duckdb", "parquet"},
    deps=MART_KEYS,
    description="The checked marts published for BI tools and analysts: a serving DuckDB file (read it read-only) "
                "and one Parquet file per mart (the order fact: a folder of months), each version built beside the "
                "old one (the order fact replaced by its changed months only) and swapped in by rename. "
                "Runs only when every mart and its blocking checks succeeded, so a failed run leaves the previous "
                "version in place. Table marts._publication names the version (run id, time, as-of date).",
)
def published_marts(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse,
                    serving: ServingStore) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        (as_of,) = con.execute("SELECT as_of_date FROM intermediate.int_as_of_date").fetchone()
        publication = publish_marts(con, serving.path, context.run.run_id, as_of)
        if serving.publish_contacts:
            contacts = publish_restricted(con, Path(serving.contacts_path), context.run.run_id, as_of)
            context.log.info(f"published the customers' names to {contacts.serving_path} (owner only)")
    if not serving.publish_contacts and withdraw_restricted(Path(serving.contacts_path)):
        context.log.warning(f"removed the earlier publication of the customers' names ({serving.contacts_path}): "
                            "RETENTION_PUBLISH_CONTACTS is no longer set")
    context.log.info(f"published {len(publication.rows_by_table)} marts to {publication.serving_path}")
    return dg.MaterializeResult(metadata={
        "serving file": dg.MetadataValue.path(str(publication.serving_path)),
        "parquet folder": dg.MetadataValue.path(str(publication.parquet_dir)),
        "rows per mart": dg.MetadataValue.json(publication.rows_by_table),
        "as of date": str(publication.as_of_date),
    })
