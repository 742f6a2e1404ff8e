"""The asset factory shared by every source entity: land files and database rows in raw."""

import dagster as dg

from ingestion.contract import Entity
from ingestion.database.extract import DatabaseLoad, ExtractError, load_database_entity
from ingestion.landing.loader import EntityLoad, LoadError, load_landing_entity
from ingestion.pii import define_pseudonym_macro
from ingestion.sources_file import SourcesConfigError
from orchestration.assets.table_metadata import table_metadata
from orchestration.resources.landing import LandingZone
from orchestration.resources.warehouse import DuckDBWarehouse
from quality.quarantine import BadShareExceeded, bad_share_guard, ensure_quarantine_tables
from quality.rules.raw import shown_raw_columns


def load_summary(files: EntityLoad, extractions: list[DatabaseLoad]) -> dict[str, object]:
    """Return what one load did, as Dagster metadata."""
    rows_from_databases = sum(e.rows for e in extractions)
    metadata: dict[str, object] = {
        "rows_loaded": dg.MetadataValue.int(files.rows_loaded + rows_from_databases),
        "files_loaded": dg.MetadataValue.int(files.files_loaded),
        "files_unchanged": dg.MetadataValue.int(sum(1 for f in files.files if f.status == "unchanged")),
        "files_new_version": dg.MetadataValue.json(
            [f.relative_path for f in files.files if f.status == "new_version"]
        ),
        "files_skipped_unknown_format": dg.MetadataValue.json(files.unknown_files),
        "files_empty": dg.MetadataValue.json([f.relative_path for f in files.files if f.status == "empty"]),
        "files_gone_from_landing": dg.MetadataValue.json(files.gone_files),
        "encodings": dg.MetadataValue.json({f.relative_path: f.encoding for f in files.files if f.encoding}),
        "warnings": dg.MetadataValue.json(files.warnings),
        "schema_drift": dg.MetadataValue.json({f.relative_path: f.schema_drift for f in files.files if f.schema_drift}),
    }
    if extractions:
        metadata["database_extractions"] = dg.MetadataValue.json(
            [{"source": e.source, "object": e.source_object, "rows": e.rows,
              "watermark": None if e.watermark is None else str(e.watermark)} for e in extractions]
        )
    return metadata


def build_raw_asset(entity: Entity) -> dg.AssetsDefinition:
    """Return the asset that loads an entity's new landing files and database rows into raw."""

    @dg.asset(
        key=["raw", entity.name],
        group_name="raw",
        kinds={"duckdb", "python"},
        description=(
            f"{entity.source_system.upper()} {entity.name} as received: every new landing file under "
            f"<landing>/{entity.name}/ (CSV UTF-8 or GB18030, Parquet, JSON Lines) and every configured "
            "database source, loaded once per content version, as text plus lineage columns."
        ),
        tags={"source_system": entity.source_system},
        # Orphan rules judge a load against its parents' rows: load those first.
        deps=[dg.AssetKey(["raw", parent]) for _, parent in entity.references],
    )
    def raw_entity(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse,
                   landing: LandingZone) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            ensure_quarantine_tables(con)
            try:
                guard = bad_share_guard(landing.max_bad_share)
                define_pseudonym_macro(con, landing.pii_key)
                files = load_landing_entity(con, landing.path, entity, log=context.log.info, guard=guard,
                                            options=landing.file_options(), warn=context.log.warning,
                                            mapped=landing.mapped_sources())
                extractions = [
                    load_database_entity(con, source, entity, log=context.log.info, guard=guard)
                    for source in landing.database_sources_for(entity.name)
                ]
            except (LoadError, ExtractError, BadShareExceeded, SourcesConfigError) as err:
                raise dg.Failure(description=str(err)) from None
            for outcome in files.files:
                if outcome.status == "new_version":
                    context.log.warning(f"{outcome.relative_path}: {outcome.note}")
            metadata = {**load_summary(files, extractions),
                        **table_metadata(con, "raw", entity.name, shown=shown_raw_columns(entity.name))}
        return dg.MaterializeResult(metadata=metadata)

    return raw_entity
