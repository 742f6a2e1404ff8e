"""The report asset: after every publication, one self-contained HTML page of the published marts."""

import dagster as dg

from orchestration.assets.model_state import finish_building
from orchestration.assets.serving import published_marts
from orchestration.report.build import build_report
from orchestration.resources.predictions import PredictionSettings
from orchestration.resources.report import RetentionReport
from orchestration.resources.serving import ServingStore
from orchestration.resources.warehouse import DuckDBWarehouse


@dg.asset(
    key=["report", "retention_report"],
    group_name="serving",
    kinds={"html", "plotly"},
    deps=[published_marts],
    description="A static HTML report of the published marts for business readers, one file that needs no "
                "server or network: cohort retention heatmap and curves, monthly CRR and churn, NRR and GRR, RFM "
                "segments, customer tiers (English and Chinese names), CLV distribution (historical and "
                "predicted), NPS and CSAT trend, and the top of the churn-risk list. It reads the serving file "
                "read-only, like any BI tool, so it shows exactly the published version.",
)
def retention_report(context: dg.AssetExecutionContext, serving: ServingStore, report: RetentionReport,
                     prediction_settings: PredictionSettings, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    built = build_report(serving.path, report.path, prediction_settings.horizon_months)
    context.log.info(f"report of run {built.run_id} written to {built.path}")
    # The last step: when this run built the model layers, it has now built, checked, published and reported
    # everything from their inputs, and a run with the same inputs has nothing to do (assets/model_state.py).
    with warehouse.connect() as con:
        finish_building(con, context.run.run_id)
    return dg.MaterializeResult(metadata={
        "report": dg.MetadataValue.path(str(built.path)),
        "charts": dg.MetadataValue.json(built.chart_ids),
        "published run": built.run_id,
        "size (bytes)": built.size_bytes,
    })
