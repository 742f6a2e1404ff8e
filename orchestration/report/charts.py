"""The charts of the retention report, each read from the published marts with one small aggregate query.

Every function takes a read-only connection to the serving file and returns a
`Chart`: the figure plus the words a business reader needs (title, what is
shown, how it is computed). The queries aggregate in DuckDB; only the few
hundred points a chart draws reach Python. A mart without rows still gives its
chart, with a note saying there is nothing to show, so the report always has
the same sections.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from orchestration.summary import table_exists

# How far back the time charts look, and how many cohorts they draw: enough for
# trends, few enough that a heatmap cell stays readable.
COHORTS_SHOWN = 24
PERIODS_SHOWN = 24
CURVES_SHOWN = 12
MONTHS_SHOWN = 36
CLV_BINS = 30
CHURN_RISK_ROWS = 20

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd")
RISK_ORDER = "CASE risk_level WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END"


@dataclass(frozen=True)
class Chart:
    """One section of the report: a figure and the words around it."""

    chart_id: str
    title: str
    caption: str
    figure: go.Figure


def tier_label(tier: str, tier_zh: str) -> str:
    """A tier as a business reader sees it: 'High value · 高价值客户'."""
    return f"{tier.replace('_', ' ').capitalize()} · {tier_zh}"


def _layout(figure: go.Figure, height: int = 420, **axes: object) -> go.Figure:
    figure.update_layout(height=height, margin={"l": 60, "r": 30, "t": 30, "b": 50}, template="plotly_white",
                         legend={"orientation": "h", "y": -0.18}, **axes)
    return figure


def _no_data(figure: go.Figure, what: str) -> go.Figure:
    figure.add_annotation(text=f"No {what} in the published marts yet", showarrow=False,
                          xref="paper", yref="paper", x=0.5, y=0.5, font={"size": 16})
    return figure


def cohort_heatmap(con: duckdb.DuckDBPyConnection) -> Chart:
    """Retention rate per monthly cohort (rows) and months since the first order (columns)."""
    rows = con.execute(f"""
        WITH recent AS (
            SELECT DISTINCT cohort_period FROM marts.cohort_retention WHERE grain = 'month'
            ORDER BY cohort_period DESC LIMIT {COHORTS_SHOWN}
        )
        SELECT strftime(c.cohort_period, '%Y-%m'), c.period_number, c.retention_rate, c.cohort_size
        FROM marts.cohort_retention AS c JOIN recent USING (cohort_period)
        WHERE c.grain = 'month' AND c.is_complete_period AND c.period_number <= {PERIODS_SHOWN}
        ORDER BY 1, 2
    """).fetchall()
    cohorts = sorted({cohort for cohort, *_ in rows})
    periods = list(range(max((p for _, p, _, _ in rows), default=0) + 1))
    cell = {(cohort, period): rate for cohort, period, rate, _ in rows}
    sizes = {cohort: size for cohort, period, _, size in rows if period == 0}
    z = [[cell.get((cohort, p)) for p in periods] for cohort in cohorts]
    text = [["" if v is None else f"{100 * v:.0f}%" for v in row] for row in z]
    figure = go.Figure(go.Heatmap(
        z=z, x=periods, y=[f"{c} ({sizes.get(c, 0):,})" for c in cohorts], text=text, texttemplate="%{text}",
        colorscale="Blues", zmin=0, zmax=1, colorbar={"title": {"text": "retained"}, "tickformat": ".0%"},
        hovertemplate="cohort %{y}<br>month %{x}: %{z:.1%} still buying<extra></extra>",
    ))
    if not rows:
        _no_data(figure, "cohorts")
    _layout(figure, height=max(420, 24 * len(cohorts) + 120),
            xaxis={"title": {"text": "months since first order"}, "dtick": 1},
            yaxis={"title": {"text": "cohort (first order month, customers)"}, "autorange": "reversed"})
    return Chart("cohort-heatmap", "Cohort retention",
                 f"The last {COHORTS_SHOWN} monthly cohorts: the share of a cohort's customers who ordered again "
                 "in each month after their first order (completed months only; month 0 is 100%).", figure)


def retention_curves(con: duckdb.DuckDBPyConnection) -> Chart:
    """One retention curve per recent monthly cohort."""
    rows = con.execute(f"""
        WITH recent AS (
            SELECT DISTINCT cohort_period FROM marts.cohort_retention WHERE grain = 'month'
            ORDER BY cohort_period DESC LIMIT {CURVES_SHOWN}
        )
        SELECT strftime(c.cohort_period, '%Y-%m'), list(c.period_number ORDER BY c.period_number),
               list(c.retention_rate ORDER BY c.period_number)
        FROM marts.cohort_retention AS c JOIN recent USING (cohort_period)
        WHERE c.grain = 'month' AND c.is_complete_period
        GROUP BY 1 ORDER BY 1
    """).fetchall()
    figure = go.Figure([
        go.Scatter(x=periods, y=rates, mode="lines+markers", name=cohort,
                   hovertemplate=f"cohort {cohort}, month %{{x}}: %{{y:.1%}}<extra></extra>")
        for cohort, periods, rates in rows
    ])
    if not rows:
        _no_data(figure, "cohorts")
    _layout(figure, xaxis={"title": {"text": "months since first order"}},
            yaxis={"title": {"text": "share of the cohort still buying"}, "tickformat": ".0%", "range": [0, 1.02]})
    return Chart("retention-curves", "Retention curves by cohort",
                 f"The last {CURVES_SHOWN} monthly cohorts, each line one cohort: how fast its customers stop buying.",
                 figure)


def _monthly_retention(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(f"""
        SELECT * FROM (
            SELECT period_start, customer_retention_rate, churn_rate, net_revenue_retention, gross_revenue_retention
            FROM marts.customer_retention WHERE grain = 'month' AND is_complete_period
            ORDER BY period_start DESC LIMIT {MONTHS_SHOWN}
        ) ORDER BY period_start
    """).fetchall()


def _monthly_rates_figure(lines: tuple[tuple[int, str, str, str], ...], y_title: str,
                          rows: list[tuple]) -> go.Figure:
    """One line per (column index, name, short label, colour) of the monthly customer_retention rows."""
    months = [r[0] for r in rows]
    figure = go.Figure([
        go.Scatter(x=months, y=[r[index] for r in rows], name=name, mode="lines+markers", line={"color": colour},
                   hovertemplate=f"%{{x|%Y-%m}}: {label} %{{y:.1%}}<extra></extra>")
        for index, name, label, colour in lines
    ])
    if not rows:
        _no_data(figure, "complete months")
    return _layout(figure, xaxis={"title": {"text": "month"}, "tickformat": "%Y-%m"},
                   yaxis={"title": {"text": y_title}, "tickformat": ".0%"})


def retention_over_time(con: duckdb.DuckDBPyConnection) -> Chart:
    """Customer retention rate and churn rate per month."""
    figure = _monthly_rates_figure(
        ((1, "customer retention rate (CRR)", "CRR", PALETTE[0]), (2, "churn rate", "churn", PALETTE[1])),
        "share of the customers active the month before", _monthly_retention(con))
    return Chart("retention-over-time", "Customer retention and churn per month",
                 "CRR: of the customers with a completed order in the previous month, the share with one again this "
                 "month (retained ÷ start customers); churn = 1 − CRR. Complete months only.", figure)


def revenue_retention(con: duckdb.DuckDBPyConnection) -> Chart:
    """Net and gross revenue retention per month."""
    figure = _monthly_rates_figure(
        ((3, "net revenue retention (NRR)", "NRR", PALETTE[2]), (4, "gross revenue retention (GRR)", "GRR", PALETTE[3])),
        "revenue kept from last month's customers", _monthly_retention(con))
    figure.add_hline(y=1, line={"dash": "dot", "color": "#888"})
    return Chart("revenue-retention", "Revenue retention (NRR and GRR)",
                 "NRR: this month's revenue from last month's customers ÷ their revenue last month (above 100% means "
                 "they spend more); GRR caps each customer at last month's spend, so it shows only the losses.",
                 figure)


def rfm_segments(con: duckdb.DuckDBPyConnection) -> Chart:
    """Customers and revenue per RFM segment."""
    rows = con.execute("""
        SELECT rfm_segment, count(*) AS customers, sum(monetary) AS revenue
        FROM marts.customer_rfm GROUP BY 1 ORDER BY customers
    """).fetchall()
    segments = [r[0].replace("_", " ") for r in rows]
    figure = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                           subplot_titles=("customers", "revenue of their completed orders"))
    figure.add_trace(go.Bar(y=segments, x=[r[1] for r in rows], orientation="h", name="customers",
                            marker_color=PALETTE[0], hovertemplate="%{y}: %{x:,} customers<extra></extra>"), 1, 1)
    figure.add_trace(go.Bar(y=segments, x=[r[2] for r in rows], orientation="h", name="revenue",
                            marker_color=PALETTE[2], hovertemplate="%{y}: %{x:,.0f}<extra></extra>"), 1, 2)
    if not rows:
        _no_data(figure, "customers with orders")
    _layout(figure, height=max(420, 28 * len(rows) + 120), showlegend=False)
    return Chart("rfm-segments", "RFM segments",
                 "Customers grouped by recency, frequency and money scores (1–5 each) with the segment rules of the "
                 "rfm_segments seed: how many customers each segment holds and what they have spent.", figure)


def customer_tiers(con: duckdb.DuckDBPyConnection) -> Chart:
    """Customers and revenue per tier, labelled in English and Chinese."""
    rows = con.execute("""
        SELECT customer_tier, customer_tier_zh, count(*) AS customers, sum(monetary) AS revenue
        FROM marts.customer_rfm GROUP BY 1, 2 ORDER BY revenue DESC
    """).fetchall()
    labels = [tier_label(tier, tier_zh) for tier, tier_zh, _, _ in rows]
    figure = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                           subplot_titles=("customers", "revenue of their completed orders"))
    figure.add_trace(go.Bar(x=labels, y=[r[2] for r in rows], name="customers", marker_color=PALETTE[4],
                            text=[f"{r[2]:,}" for r in rows], textposition="auto",
                            hovertemplate="%{x}: %{y:,} customers<extra></extra>"), 1, 1)
    figure.add_trace(go.Bar(x=labels, y=[r[3] for r in rows], name="revenue", marker_color=PALETTE[2],
                            hovertemplate="%{x}: %{y:,.0f}<extra></extra>"), 1, 2)
    if not rows:
        _no_data(figure, "customers with orders")
    _layout(figure, showlegend=False)
    return Chart("customer-tiers", "Customer tiers 客户分层",
                 "The four tiers the RFM segments roll up to (rfm_tiers seed), with their Chinese names.", figure)


def clv_distribution(con: duckdb.DuckDBPyConnection, horizon_months: int) -> Chart:
    """How many customers fall in each band of historical and predicted customer value."""
    # The predictions table is empty when the models were not fitted (too few repeat buyers).
    predicted = table_exists(con, "marts", "customer_predictions") and con.execute(
        "SELECT count(*) > 0 FROM marts.customer_predictions").fetchone()[0]
    values = "SELECT 'historical revenue' AS kind, historical_revenue AS value FROM marts.customer_lifetime_value"
    if predicted:
        values += (f" UNION ALL SELECT 'predicted CLV, next {horizon_months} months', predicted_clv "
                   "FROM marts.customer_predictions")
    # Bands up to the 95th percentile, where the long tail starts; the last band also holds the tail.
    rows = con.execute(f"""
        WITH v AS ({values}),
        band AS (SELECT greatest(quantile_cont(value, 0.95), 1e-9) / {CLV_BINS} AS width FROM v)
        SELECT kind, least(floor(greatest(value, 0) / width), {CLV_BINS - 1})::INTEGER AS bin, count(*), any_value(width)
        FROM v, band WHERE value IS NOT NULL GROUP BY ALL ORDER BY kind, bin
    """).fetchall()
    figure = go.Figure()
    width = rows[0][3] if rows else 0
    for index, kind in enumerate(sorted({r[0] for r in rows})):
        bins = [(b, n) for k, b, n, _ in rows if k == kind]
        figure.add_trace(go.Bar(
            x=[(b + 0.5) * width for b, _ in bins], y=[n for _, n in bins], width=width, name=kind, opacity=0.65,
            marker_color=PALETTE[index], customdata=[[b * width, (b + 1) * width] for b, _ in bins],
            hovertemplate=f"{kind}<br>%{{customdata[0]:,.0f}} – %{{customdata[1]:,.0f}}: %{{y:,}} customers"
                          "<extra></extra>",
        ))
    if not rows:
        _no_data(figure, "customer values")
    _layout(figure, barmode="overlay", xaxis={"title": {"text": "value per customer (reporting currency)"}},
            yaxis={"title": {"text": "customers"}})
    caption = ("Historical revenue: each customer's completed net revenue so far."
               + (f" Predicted CLV: BG/NBD and Gamma-Gamma models, margin applied and discounted, over the next "
                  f"{horizon_months} months." if predicted else " Predicted CLV: not published (no model fit).")
               + " The last band also holds the top 5%.")
    return Chart("clv-distribution", "Customer lifetime value distribution", caption, figure)


def survey_trend(con: duckdb.DuckDBPyConnection) -> Chart:
    """NPS and CSAT per month, all customers."""
    rows = con.execute(f"""
        SELECT * FROM (
            SELECT month, nps, csat, nps_responses, csat_responses FROM marts.survey_scores
            WHERE breakdown = 'overall' AND is_complete_period ORDER BY month DESC LIMIT {MONTHS_SHOWN}
        ) ORDER BY month
    """).fetchall()
    months = [r[0] for r in rows]
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(go.Scatter(x=months, y=[r[1] for r in rows], name="NPS (−100 to 100)", mode="lines+markers",
                                line={"color": PALETTE[0]}, customdata=[r[3] for r in rows],
                                hovertemplate="%{x|%Y-%m}: NPS %{y:+.1f} (%{customdata:,} answers)<extra></extra>"),
                     secondary_y=False)
    figure.add_trace(go.Scatter(x=months, y=[r[2] for r in rows], name="CSAT (% satisfied)", mode="lines+markers",
                                line={"color": PALETTE[3]}, customdata=[r[4] for r in rows],
                                hovertemplate="%{x|%Y-%m}: CSAT %{y:.1f}% (%{customdata:,} answers)<extra></extra>"),
                     secondary_y=True)
    if not rows:
        _no_data(figure, "survey months")
    _layout(figure, xaxis={"title": {"text": "month"}, "tickformat": "%Y-%m"})
    figure.update_yaxes(title_text="NPS", range=[-100, 100], secondary_y=False)
    figure.update_yaxes(title_text="CSAT %", range=[0, 100], secondary_y=True, showgrid=False)
    return Chart("survey-trend", "NPS and CSAT per month",
                 "NPS = % promoters (9–10) − % detractors (0–6) of the month's NPS answers; CSAT = % of CSAT answers "
                 "at 4 or 5. Complete months only.", figure)


def churn_risk_list(con: duckdb.DuckDBPyConnection) -> Chart:
    """The customers most worth a call: highest risk level first, then most value at risk."""
    rows = con.execute(f"""
        SELECT customer_id, risk_level, reasons, p_alive, value_at_risk, days_since_last_purchase, account_owner
        FROM marts.churn_risk ORDER BY {RISK_ORDER}, value_at_risk DESC NULLS LAST, customer_id
        LIMIT {CHURN_RISK_ROWS}
    """).fetchall()
    columns = list(zip(*rows)) if rows else [()] * 7
    figure = go.Figure(go.Table(
        columnwidth=[80, 50, 260, 50, 70, 60, 80],
        header={"values": ["customer", "risk", "why", "P(alive)", "value at risk", "days since last order",
                           "account owner"], "fill_color": "#e8eef7", "align": "left"},
        cells={"values": [columns[0], columns[1], columns[2],
                          ["" if v is None else f"{v:.0%}" for v in columns[3]],
                          ["" if v is None else f"{v:,.0f}" for v in columns[4]],
                          list(columns[5]), ["" if v is None else v for v in columns[6]]],
               "align": "left", "height": 26},
    ))
    if not rows:
        _no_data(figure, "customers at risk")
    figure.update_layout(height=120 + 30 * max(len(rows), 3), margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return Chart("churn-risk", "Top of the churn-risk list",
                 f"The {CHURN_RISK_ROWS} customers to call first: high risk before medium and low, then the most "
                 "value at risk (the predicted CLV over the horizon).", figure)


def report_charts(con: duckdb.DuckDBPyConnection, horizon_months: int) -> list[Chart]:
    """Every chart of the report, in reading order."""
    return [cohort_heatmap(con), retention_curves(con), retention_over_time(con), revenue_retention(con),
            rfm_segments(con), customer_tiers(con), clv_distribution(con, horizon_months), survey_trend(con),
            churn_risk_list(con)]
