"""Building the report: read the published marts read-only, draw the charts, write one HTML file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.report.charts import report_charts
from orchestration.report.page import ReportHeader, report_html, write_report
from orchestration.serving.readers import open_published
from orchestration.summary import mart_headlines


@dataclass(frozen=True)
class BuiltReport:
    """Where the report went and what it shows."""

    path: Path
    chart_ids: list[str]
    run_id: str
    size_bytes: int


def read_report_header(con: duckdb.DuckDBPyConnection) -> ReportHeader:
    """The published version and the headline figures, from the serving file."""
    run_id, published_at, as_of_date = con.execute(
        "SELECT run_id, published_at, as_of_date FROM marts._publication").fetchone()
    customers, = con.execute("SELECT count(*) FROM marts.customer_lifetime_value").fetchone()
    revenue, currency = con.execute(
        "SELECT sum(net_revenue), string_agg(DISTINCT currency, ', ') FROM marts.fct_orders WHERE is_completed"
    ).fetchone()
    at_risk, = con.execute("SELECT count(*) FROM marts.churn_risk WHERE risk_level = 'high'").fetchone()
    return ReportHeader(run_id, published_at, as_of_date, customers,
                        None if revenue is None else float(revenue), currency, at_risk, mart_headlines(con))


def build_report(serving_path: Path, report_path: Path, horizon_months: int) -> BuiltReport:
    """Write the report of the version published in `serving_path` to `report_path`."""
    with open_published(serving_path) as con:
        header = read_report_header(con)
        charts = report_charts(con, horizon_months)
    write_report(report_path, report_html(header, charts))
    return BuiltReport(report_path, [chart.chart_id for chart in charts], header.run_id, report_path.stat().st_size)
