"""The HTML report on the hand-computed mart fixture: the figures its charts draw, and the page in a browser.

The marts are those of tests/mart_fixture.py with the hand-made predictions of
tests/test_churn_risk.py (T = 2025-03-15). Expected values are the fixture's
hand-computed figures (see tests/test_marts.py and tests/test_churn_risk.py).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.report import charts
from orchestration.report.build import build_report
from orchestration.serving.readers import open_published
from tests.browser import (
    artifacts_dir,
    chart_sections,
    chromium_or_skip,
    rendered_dom,
    screenshot,
)
from tests.mart_fixture import build_marts_with_predictions

pytestmark = pytest.mark.slow

RUN_ID = "run-of-the-fixture"
CHART_IDS = ["cohort-heatmap", "retention-curves", "retention-over-time", "revenue-retention", "rfm-segments",
             "customer-tiers", "clv-distribution", "survey-trend", "churn-risk"]
# Complete months with a customer_retention row: September 2024 to February 2025 (March holds T).
MONTHS = [date(2024, 9, 1), date(2024, 10, 1), date(2024, 11, 1), date(2024, 12, 1), date(2025, 1, 1),
          date(2025, 2, 1)]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture's marts as a published version: the warehouse file with a marts._publication row."""
    warehouse = build_marts_with_predictions(tmp_path_factory.mktemp("report"))
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE TABLE marts._publication AS SELECT ? AS run_id, TIMESTAMP '2025-03-16 06:00' AS "
                    "published_at, DATE '2025-03-15' AS as_of_date, 14 AS marts", [RUN_ID])
    return warehouse


@pytest.fixture(scope="module")
def marts(published: Path):
    """A read-only connection to the published fixture, as the report opens it."""
    con = open_published(published)
    yield con
    con.close()


@pytest.fixture(scope="module")
def report(published: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the fixture, written as the asset writes it."""
    built = build_report(published, tmp_path_factory.mktemp("html") / "retention_report.html", horizon_months=12)
    assert built.chart_ids == CHART_IDS and built.run_id == RUN_ID
    return built.path


def test_cohort_heatmap_and_curves(marts):
    heatmap = charts.cohort_heatmap(marts).figure.data[0]
    # March 2025 has no complete period, so its cohort is not drawn; sizes in brackets.
    assert list(heatmap.y) == ["2024-08 (1)", "2024-10 (3)", "2024-11 (3)", "2024-12 (1)", "2025-01 (1)"]
    z = {label[:7]: list(row) for label, row in zip(heatmap.y, heatmap.z)}
    assert z["2024-08"][:7] == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]  # C12 away five months, back in February
    assert z["2024-10"][:5] == [1.0, 0.0, pytest.approx(1 / 3), 0.0, 0.0]  # C02 in December
    assert z["2024-10"][5] is None  # March 2025 is not complete
    assert z["2024-11"][:4] == [1.0, pytest.approx(1 / 3), pytest.approx(2 / 3), 0.0]
    curves = {trace.name: (list(trace.x), list(trace.y)) for trace in charts.retention_curves(marts).figure.data}
    assert curves["2024-12"] == ([0, 1, 2], [1.0, 1.0, 0.0])
    assert curves["2025-01"] == ([0, 1], [1.0, 0.0])
    assert sorted(curves) == ["2024-08", "2024-10", "2024-11", "2024-12", "2025-01"]


def test_monthly_retention_and_revenue_retention(marts):
    crr, churn = charts.retention_over_time(marts).figure.data
    assert list(crr.x) == MONTHS
    # October has S = 0: no rate at all, not 0.
    assert list(crr.y) == [0.0, None, 0.0, pytest.approx(1 / 3), pytest.approx(2 / 3), 0.0]
    assert list(churn.y) == [1.0, None, 1.0, pytest.approx(2 / 3), pytest.approx(1 / 3), 1.0]
    nrr, grr = charts.revenue_retention(marts).figure.data
    assert list(nrr.y) == [0.0, None, 0.0, pytest.approx(100 / 330), pytest.approx(160 / 210), 0.0]
    assert list(grr.y) == list(nrr.y)  # nobody spent more than the month before


def test_rfm_segments_and_tiers_with_chinese_labels(marts):
    customers, revenue = charts.rfm_segments(marts).figure.data
    by_segment = {segment: (n, float(r)) for segment, n, r in zip(customers.y, customers.x, revenue.x)}
    assert by_segment == {
        "At Risk": (3, 850.0),  # C02 250, C09 300, C10 300
        "Need Attention": (2, 280.0),  # C03 160, C05 120
        "Champions": (1, 400.0), "Loyal Customers": (1, 1200.0), "Hibernating": (1, 150.0),
        "Promising": (1, 100.0), "New Customers": (1, 40.0),
    }
    customers, revenue = charts.customer_tiers(marts).figure.data
    assert list(customers.x) == ["High value · 高价值客户", "Churn risk · 流失风险客户", "General · 一般客户",
                                 "Potential · 潜力客户"]  # by revenue, highest first
    assert list(customers.y) == [2, 4, 2, 2]
    assert [float(v) for v in revenue.y] == [1600.0, 1000.0, 280.0, 140.0]


def test_clv_distribution_bands(marts):
    figure = charts.clv_distribution(marts, horizon_months=12).figure
    historical, predicted = figure.data
    assert historical.name == "historical revenue" and predicted.name == "predicted CLV, next 12 months"
    # 13 values (10 historical, 3 predicted); their 95th percentile 900 + 0.4 x 300 = 1020 gives bands of 34.
    assert historical.width == pytest.approx(34)
    bands = {round(x / 34 - 0.5): n for x, n in zip(historical.x, historical.y)}
    # 40 | 100 | 120 | 150, 160 | 250 | 300, 300 | 400 | 1200 in the last band (29) with the tail.
    assert bands == {1: 1, 2: 1, 3: 1, 4: 2, 7: 1, 8: 2, 11: 1, 29: 1}
    assert {round(x / 34 - 0.5): n for x, n in zip(predicted.x, predicted.y)} == {1: 1, 3: 1, 26: 1}


def test_survey_trend(marts):
    nps, csat = charts.survey_trend(marts).figure.data
    # Complete months only: January (NPS 0, CSAT 50) and February (one promoter, no CSAT answer).
    assert list(nps.x) == [date(2025, 1, 1), date(2025, 2, 1)]
    assert list(nps.y) == [0.0, 100.0] and list(csat.y) == [50.0, None]


def test_churn_risk_list_order(marts):
    table = charts.churn_risk_list(marts).figure.data[0]
    customers, levels, _, p_alive, value, *_ = table.cells.values
    # High first, then medium, then low; within a level the most value at risk first, unknown value last.
    assert list(customers) == ["C05", "C02", "C09", "C03", "C01", "C04", "C10"]
    assert list(levels) == ["high", "medium", "medium", "low", "low", "low", "low"]
    assert (p_alive[0], value[0]) == ("10%", "123")


def test_a_mart_without_rows_still_has_its_chart(marts, tmp_path):
    empty = tmp_path / "empty.duckdb"
    with duckdb.connect(str(empty)) as con:
        con.execute(f"ATTACH '{marts.execute('PRAGMA database_list').fetchall()[0][2]}' AS fixture (READ_ONLY)")
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.survey_scores AS SELECT * FROM fixture.marts.survey_scores LIMIT 0")
        chart = charts.survey_trend(con)
    assert [len(trace.x) for trace in chart.figure.data] == [0, 0]
    assert chart.figure.layout.annotations[0].text == "No survey months in the published marts yet"


def test_clv_without_a_model_fit_shows_history_only(tmp_path):
    with duckdb.connect(str(tmp_path / "unfitted.duckdb")) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.customer_lifetime_value AS "
                    "SELECT * FROM (VALUES (10.0), (30.0), (50.0)) AS t(historical_revenue)")
        con.execute("CREATE TABLE marts.customer_predictions (customer_id VARCHAR, predicted_clv DOUBLE)")
        chart = charts.clv_distribution(con, horizon_months=12)
    (historical,) = chart.figure.data
    # 95th percentile of 10, 30, 50 = 30 + 0.9 x 20 = 48: bands of 1.6, and 50 joins the last band.
    assert historical.width == pytest.approx(1.6)
    assert {round(x / 1.6 - 0.5): n for x, n in zip(historical.x, historical.y)} == {6: 1, 18: 1, 29: 1}
    assert "Predicted CLV: not published (no model fit)." in chart.caption


def test_the_page_is_self_contained(report):
    page = report.read_text(encoding="utf-8")
    # plotly.js is inside the page: no script or stylesheet is fetched from anywhere.
    assert not re.search(r"<script[^>]*\bsrc=", page) and "<link " not in page
    assert page.count("Plotly.newPlot(") == len(CHART_IDS)
    assert "Data as of 2025-03-15 · published 2025-03-16 06:00 UTC · run run-of-the-fixture" in page
    # Headline cards: 10 customers with orders, 3,020 of revenue, one customer at high risk (C05).
    for card in ('<div class="value">10</div><div class="label">customers with a completed order',
                 '<div class="value">3,020 CNY</div>', '<div class="value">1</div><div class="label">customers at high'):
        assert card in page


def test_the_report_renders_in_headless_chromium(report):
    chromium = chromium_or_skip()
    dom = chart_sections(rendered_dom(chromium, report))
    assert dom.body_attributes.get("data-charts-drawn") == str(len(CHART_IDS))
    assert list(dom.classes) == CHART_IDS
    drawn = dom.classes
    for chart in CHART_IDS:
        assert drawn[chart]["main-svg"] >= 1, chart
    assert drawn["cohort-heatmap"]["hm"] == 1
    # One scatter trace per line; a "point" per drawn marker or bar (a missing rate draws nothing).
    assert (drawn["retention-curves"]["scatter"], drawn["retention-curves"]["point"]) == (5, 7 + 5 + 4 + 3 + 2)
    assert (drawn["retention-over-time"]["scatter"], drawn["retention-over-time"]["point"]) == (2, 5 + 5)
    assert (drawn["revenue-retention"]["scatter"], drawn["revenue-retention"]["point"]) == (2, 5 + 5)
    assert (drawn["survey-trend"]["scatter"], drawn["survey-trend"]["point"]) == (2, 2 + 1)
    assert drawn["rfm-segments"]["point"] == 14  # 7 segments, customers and revenue
    assert drawn["customer-tiers"]["point"] == 8
    assert drawn["clv-distribution"]["point"] == 11  # 8 historical and 3 predicted bands
    assert drawn["churn-risk"]["table"] == 1 and drawn["churn-risk"]["cell-text"] == 8 * 7  # header + 7 rows
    tier_text = " ".join(dom.text["customer-tiers"])
    assert "High value · 高价值客户" in tier_text and "Churn risk · 流失风险客户" in tier_text
    risk_text = dom.text["churn-risk"]
    assert risk_text.index("C05") < risk_text.index("C02") < risk_text.index("C10")
    png = screenshot(chromium, report, artifacts_dir() / "retention_report.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 50_000
