"""The report page: one self-contained HTML file (plotly.js inlined once), written atomically."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import plotly.offline

from orchestration.atomic_files import write_text_atomically
from orchestration.report.charts import Chart
from orchestration.summary import MartHeadlines

STYLE = """
body { font-family: "Segoe UI", "Helvetica Neue", Arial, "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif;
       margin: 0; background: #f5f7fa; color: #1d2733; }
header { background: #1d3557; color: #fff; padding: 24px 40px; }
header h1 { margin: 0 0 6px 0; font-size: 26px; }
header p { margin: 0; opacity: .85; }
.kpis { display: flex; flex-wrap: wrap; gap: 16px; padding: 20px 40px 0 40px; }
.kpi { background: #fff; border-radius: 8px; padding: 14px 18px; min-width: 180px;
       box-shadow: 0 1px 3px rgba(0,0,0,.08); }
.kpi .value { font-size: 24px; font-weight: 600; }
.kpi .label { font-size: 13px; color: #5a6b7d; }
main { padding: 8px 40px 40px 40px; }
section.chart { background: #fff; border-radius: 8px; margin-top: 20px; padding: 16px 20px;
                box-shadow: 0 1px 3px rgba(0,0,0,.08); }
section.chart h2 { margin: 0 0 4px 0; font-size: 19px; }
section.chart p.caption { margin: 0 0 8px 0; color: #5a6b7d; font-size: 14px; }
footer { padding: 0 40px 30px 40px; color: #5a6b7d; font-size: 13px; }
"""

# Counts, once the page has loaded, the charts that plotly has drawn, so a
# browser test or a screenshot tool can tell a complete page from a broken one.
RENDERED_MARKER = """
<script>
window.addEventListener('load', function () {
  var drawn = Array.from(document.querySelectorAll('section.chart .plotly-graph-div'))
    .filter(function (div) { return div.querySelector('svg.main-svg') !== null; });
  document.body.setAttribute('data-charts-drawn', String(drawn.length));
});
</script>
"""


@dataclass(frozen=True)
class ReportHeader:
    """What the top of the report says: which published version it shows, and the headline figures."""

    run_id: str
    published_at: datetime
    as_of_date: date | None
    customers_with_orders: int
    completed_revenue: float | None
    currency: str | None
    customers_at_high_risk: int
    headlines: MartHeadlines


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def kpi_cards(header: ReportHeader) -> list[tuple[str, str]]:
    """(value, label) of each headline card."""
    h = header.headlines
    revenue = "n/a" if header.completed_revenue is None else f"{header.completed_revenue:,.0f} {header.currency or ''}"
    return [
        (f"{header.customers_with_orders:,}", "customers with a completed order"),
        (revenue.strip(), "net revenue of completed orders"),
        (_percent(h.latest_month_crr),
         f"customer retention rate {h.latest_complete_month:%Y-%m}" if h.latest_complete_month else "customer retention rate"),
        (_percent(h.oldest_cohort_12_month_retention),
         f"12-month retention, {h.oldest_cohort:%Y-%m} cohort" if h.oldest_cohort else "12-month cohort retention"),
        ("n/a" if h.nps is None else f"{h.nps:+.1f}", f"NPS {h.nps_month:%Y-%m}" if h.nps_month else "NPS"),
        (f"{header.customers_at_high_risk:,}", "customers at high churn risk"),
    ]


def chart_section(chart: Chart) -> str:
    """One chart as an HTML section (the figure's div and its drawing script, no plotly.js)."""
    figure_html = chart.figure.to_html(full_html=False, include_plotlyjs=False, div_id=chart.chart_id,
                                       config={"displaylogo": False, "responsive": True})
    return (f'<section class="chart" data-chart="{chart.chart_id}">\n<h2>{html.escape(chart.title)}</h2>\n'
            f'<p class="caption">{html.escape(chart.caption)}</p>\n{figure_html}\n</section>')


def report_html(header: ReportHeader, charts: list[Chart]) -> str:
    """The whole report as one HTML document that needs no network."""
    cards = "\n".join(f'<div class="kpi"><div class="value">{html.escape(value)}</div>'
                      f'<div class="label">{html.escape(label)}</div></div>' for value, label in kpi_cards(header))
    as_of = header.as_of_date.isoformat() if header.as_of_date else "n/a"
    sections = "\n".join(chart_section(chart) for chart in charts)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Customer retention report, as of {as_of}</title>
<style>{STYLE}</style>
<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>
</head>
<body>
<header>
<h1>Customer retention report</h1>
<p>Data as of {as_of} · published {header.published_at:%Y-%m-%d %H:%M} UTC · run {html.escape(header.run_id)}</p>
</header>
<div class="kpis">
{cards}
</div>
<main>
{sections}
</main>
<footer>Built from the published marts (the serving DuckDB file) by the customer-retention warehouse.
Every figure here can be queried there: <code>retention sql "SELECT * FROM marts.customer_retention"</code>.</footer>
{RENDERED_MARKER}
</body>
</html>
"""


def write_report(path: Path, document: str) -> Path:
    """Write the report beside its old version and rename it over, so a reader never opens half a file."""
    return write_text_atomically(path, document)
