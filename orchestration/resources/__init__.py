"""Dagster resources, each configured from the environment (see orchestration.settings)."""

from __future__ import annotations

import dagster as dg

from ingestion.pii import KEY_ENVIRONMENT_VARIABLE
from orchestration.resources.dbt import dbt_cli_resource
from orchestration.resources.landing import LandingZone
from orchestration.resources.marts import MartSettings
from orchestration.resources.predictions import PredictionSettings
from orchestration.resources.quality_reports import QualityReports
from orchestration.resources.report import RetentionReport
from orchestration.resources.serving import ServingStore
from orchestration.resources.warehouse import DuckDBWarehouse
from orchestration.settings import Settings


def build_resources(settings: Settings) -> dict[str, object]:
    """Return the resources of the Definitions for these settings."""
    return {
        "warehouse": DuckDBWarehouse(
            path=str(settings.warehouse_path), memory_limit=settings.duckdb_memory_limit,
            lock_wait_seconds=settings.lock_wait_seconds, run_report_path=str(settings.run_report_path),
            landed_record_path=str(settings.landed_record_path),
        ),
        "landing": LandingZone(
            landing_dir=str(settings.landing_dir),
            sources_file=str(settings.sources_file) if settings.sources_file else None,
            max_bad_share=settings.max_bad_share,
            landed_record=str(settings.landed_record_path),
            pii_key=dg.EnvVar(KEY_ENVIRONMENT_VARIABLE) if settings.pii_key else None,
        ),
        "mart_settings": MartSettings(as_of_date=settings.as_of_date, reporting_currency=settings.reporting_currency,
                                      full_refresh=settings.full_refresh),
        "quality_reports": QualityReports(data_docs_dir=str(settings.data_docs_dir)),
        "serving": ServingStore(serving_path=str(settings.serving_path), contacts_path=str(settings.contacts_path),
                                publish_contacts=settings.publish_contacts),
        "report": RetentionReport(report_path=str(settings.report_path)),
        "prediction_settings": PredictionSettings(
            horizon_months=settings.clv_horizon_months, margin=settings.clv_margin,
            annual_discount_rate=settings.clv_annual_discount_rate, holdout_weeks=settings.holdout_weeks,
            refit_days=settings.refit_days,
        ),
        "dbt": dbt_cli_resource(settings),
    }
