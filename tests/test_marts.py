"""Every mart on the hand-computed fixture of tests/mart_fixture.py, edge cases included.

Expected values were computed by hand from the table in that module's
docstring (T = 2025-03-15, the date of the latest completed order, in
Asia/Shanghai); the working is in the comments.
"""

from __future__ import annotations

import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pytest

from tests.mart_fixture import build_marts, dbt

pytestmark = pytest.mark.slow

T = date(2025, 3, 15)


@pytest.fixture(scope="module")
def marts(tmp_path_factory: pytest.TempPathFactory):
    """The fixture built once with the default as-of date; yields a read-only connection."""
    warehouse = build_marts(tmp_path_factory.mktemp("marts"))
    con = duckdb.connect(str(warehouse), read_only=True)
    yield con
    con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    """All rows of a query."""
    return con.execute(sql).fetchall()


def d(text: str) -> date:
    """A date from ISO text."""
    return date.fromisoformat(text)


def test_fct_orders_net_revenue_statuses_and_the_shanghai_day(marts):
    assert rows(marts, "SELECT count(*), count(*) FILTER (WHERE is_completed), sum(net_revenue) FILTER "
                       "(WHERE is_completed) FROM marts.fct_orders") == [(21, 18, Decimal("3020.00"))]
    # 2024-10-31 23:30 UTC is 2024-11-01 07:30 in Shanghai.
    assert rows(marts, "SELECT order_date, order_week, order_month FROM marts.fct_orders WHERE order_id = 'O05'") == [
        (d("2024-11-01"), d("2024-10-28"), d("2024-11-01"))]
    # 2 x 50.00 + 1 x 30.00 = 130.00 gross; 10.00 off a line; 20.00 off the order; 100.00 net.
    assert rows(marts, "SELECT line_count, gross_amount, line_discount, order_discount, net_revenue "
                       "FROM marts.fct_orders WHERE order_id = 'O16'") == [
        (2, Decimal("130.00"), Decimal("10.00"), Decimal("20.00"), Decimal("100.00"))]
    statuses = dict(rows(marts, "SELECT order_id, order_status FROM marts.fct_orders "
                                "WHERE order_id IN ('O08', 'O09', 'O17', 'O03')"))
    assert statuses == {"O08": "cancelled", "O09": "refunded", "O17": "pending", "O03": "completed"}


def test_customer_lifetime_value(marts):
    # (orders, revenue, first, last, tenure = T - first in days)
    expected = {
        "C01": (4, "400.00", "2024-11-10", "2025-03-10", 125),  # 20 + 31 + 31 + 28 + 15
        "C02": (2, "250.00", "2024-10-20", "2024-12-15", 146),  # 11 + 30 + 31 + 31 + 28 + 15
        "C03": (2, "160.00", "2024-11-01", "2025-01-05", 134),
        "C04": (1, "150.00", "2024-11-05", "2024-11-05", 130),  # cancelled and refunded orders left out
        "C05": (2, "120.00", "2024-12-30", "2025-01-02", 75),
        "C07": (1, "100.00", "2025-01-15", "2025-01-15", 59),
        "C09": (1, "300.00", "2024-10-10", "2024-10-10", 156),
        "C10": (1, "300.00", "2024-10-15", "2024-10-15", 151),
        "C11": (1, "40.00", "2025-03-15", "2025-03-15", 0),
        "C12": (3, "1200.00", "2024-08-10", "2025-03-01", 217),
    }
    got = {r[0]: r[1:] for r in rows(marts, "SELECT customer_id, orders, historical_revenue, first_order_date, "
                                            "last_order_date, tenure_days, average_order_value, as_of_date "
                                            "FROM marts.customer_lifetime_value")}
    assert set(got) == set(expected)  # C06 and C08 have no completed order
    for customer, (orders, revenue, first, last, tenure) in expected.items():
        assert got[customer][:5] == (orders, Decimal(revenue), d(first), d(last), tenure), customer
        assert got[customer][5] == pytest.approx(float(revenue) / orders)
        assert got[customer][6] == T


def test_customer_rfm_scores_ties_segments_and_tiers(marts):
    # n = 10. Recency days worst -> best: C09 156, C10 151, C04 130, C02 90, C05 72, C03 69, C07 59, C12 14,
    # C01 5, C11 0: r = 1 + floor(5 (rank - 1) / 10). Frequency: five customers with 1 order share rank 1
    # (score 1, although row numbers 1..5 would span scores 1-3); C02, C03, C05 (2 orders) share rank 6 -> 3.
    # Monetary: C09 and C10 (300.00) share rank 7 -> 4. fm = round((f + m) / 2), halves up: C05 (3, 2) -> 3.
    expected = {
        #       recency, r, f, m, fm, segment, tier
        "C01": (5, 5, 5, 5, 5, "Champions", "high_value", "高价值客户"),
        "C02": (90, 2, 3, 3, 3, "At Risk", "churn_risk", "流失风险客户"),
        "C03": (69, 3, 3, 3, 3, "Need Attention", "general", "一般客户"),
        "C04": (130, 2, 1, 2, 2, "Hibernating", "churn_risk", "流失风险客户"),
        "C05": (72, 3, 3, 2, 3, "Need Attention", "general", "一般客户"),
        "C07": (59, 4, 1, 1, 1, "Promising", "potential", "潜力客户"),
        "C09": (156, 1, 1, 4, 3, "At Risk", "churn_risk", "流失风险客户"),
        "C10": (151, 1, 1, 4, 3, "At Risk", "churn_risk", "流失风险客户"),
        "C11": (0, 5, 1, 1, 1, "New Customers", "potential", "潜力客户"),
        "C12": (14, 4, 5, 5, 5, "Loyal Customers", "high_value", "高价值客户"),
    }
    got = {r[0]: r[1:] for r in rows(marts, "SELECT customer_id, recency_days, r_score, f_score, m_score, fm_score, "
                                            "rfm_segment, customer_tier, customer_tier_zh FROM marts.customer_rfm")}
    assert got == expected


def test_cohort_retention_by_month(marts):
    got = rows(marts, "SELECT cohort_period, period_number, cohort_size, active_customers, revenue, "
                      "is_complete_period FROM marts.cohort_retention WHERE grain = 'month' "
                      "ORDER BY cohort_period, period_number")
    expected = [
        # August cohort (C12): away for five months, back in February and March.
        *[("2024-08-01", k, 1, a, r) for k, a, r in
          [(0, 1, "200"), (1, 0, "0"), (2, 0, "0"), (3, 0, "0"), (4, 0, "0"), (5, 0, "0"), (6, 1, "500"),
           (7, 1, "500")]],
        # October cohort (C09, C10, C02): nobody in November (a zero row, not a missing one); C02 in December.
        *[("2024-10-01", k, 3, a, r) for k, a, r in
          [(0, 3, "800"), (1, 0, "0"), (2, 1, "50"), (3, 0, "0"), (4, 0, "0"), (5, 0, "0")]],
        # November cohort (C03 via the Shanghai day, C01, C04).
        *[("2024-11-01", k, 3, a, r) for k, a, r in
          [(0, 3, "330"), (1, 1, "100"), (2, 2, "180"), (3, 0, "0"), (4, 1, "100")]],
        *[("2024-12-01", k, 1, a, r) for k, a, r in [(0, 1, "60"), (1, 1, "60"), (2, 0, "0"), (3, 0, "0")]],
        *[("2025-01-01", k, 1, a, r) for k, a, r in [(0, 1, "100"), (1, 0, "0"), (2, 0, "0")]],
        ("2025-03-01", 0, 1, 1, "40"),
    ]
    assert [(str(c), k, s, a, str(int(r))) for c, k, s, a, r, _ in got] == \
           [(c, k, s, a, r) for c, k, s, a, r in expected]
    # Only the periods that end on or before T are complete: everything but March 2025.
    assert all(complete == (start_k_month(cohort, k) < d("2025-03-01")) for cohort, k, *_, complete in got)
    oct_k2 = rows(marts, "SELECT retention_rate, revenue_retention, cumulative_revenue_per_customer "
                         "FROM marts.cohort_retention WHERE grain = 'month' AND cohort_period = '2024-10-01' "
                         "AND period_number IN (0, 2, 5) ORDER BY period_number")
    assert oct_k2[0] == (1.0, 1.0, pytest.approx(800 / 3))
    assert oct_k2[1] == (pytest.approx(1 / 3), pytest.approx(50 / 800), pytest.approx(850 / 3))
    assert oct_k2[2] == (0.0, 0.0, pytest.approx(850 / 3))
    assert rows(marts, "SELECT revenue_retention FROM marts.cohort_retention WHERE grain = 'month' "
                       "AND cohort_period = '2024-08-01' AND period_number = 6") == [(2.5,)]


def start_k_month(cohort: date, k: int) -> date:
    """First day of the month k months after `cohort`."""
    months = cohort.year * 12 + cohort.month - 1 + k
    return date(months // 12, months % 12 + 1, 1)


def test_cohort_retention_by_iso_week_across_the_year_boundary(marts):
    # C05 bought on Monday 2024-12-30 and on Thursday 2025-01-02: one ISO week (2025-W01), one active
    # customer with both orders' revenue, and nothing the week after.
    assert rows(marts, "SELECT period_number, cohort_size, active_customers, revenue FROM marts.cohort_retention "
                       "WHERE grain = 'week' AND cohort_period = '2024-12-30' AND period_number <= 1 "
                       "ORDER BY period_number") == [(0, 1, 1, Decimal("120.00")), (1, 1, 0, Decimal("0.00"))]
    # O05 falls on Friday 2024-11-01 in Shanghai: the week starting Monday 2024-10-28.
    assert rows(marts, "SELECT cohort_size FROM marts.cohort_retention WHERE grain = 'week' "
                       "AND cohort_period = '2024-10-28' AND period_number = 0") == [(1,)]
    assert rows(marts, "SELECT sum(cohort_size) FROM marts.cohort_retention WHERE grain = 'week' "
                       "AND period_number = 0") == [(10,)]


def test_customer_retention_by_month(marts):
    got = rows(marts, "SELECT period_start, start_customers, retained_customers, churned_customers, new_customers, "
                      "reactivated_customers, end_customers, customer_retention_rate, churn_rate, "
                      "net_revenue_retention, gross_revenue_retention, is_complete_period "
                      "FROM marts.customer_retention WHERE grain = 'month' ORDER BY period_start")
    third = pytest.approx(1 / 3)
    expected = [
        # P        S  ret churn new react E  CRR  churn NRR GRR complete
        ("2024-09-01", 1, 0, 1, 0, 0, 0, 0.0, 1.0, 0.0, 0.0, True),  # C12 gone
        ("2024-10-01", 0, 0, 0, 3, 0, 3, None, None, None, None, True),  # S = 0: null rates
        ("2024-11-01", 3, 0, 3, 3, 0, 3, 0.0, 1.0, 0.0, 0.0, True),
        # S = {C03, C01, C04} with 330.00 in November; C01 keeps 100.00; C02 reactivated, C05 new.
        ("2024-12-01", 3, 1, 2, 1, 1, 3, third, pytest.approx(2 / 3), pytest.approx(100 / 330),
         pytest.approx(100 / 330), True),
        # S = {C01, C02, C05} with 210.00 in December; C01 and C05 spend 160.00; C03 back, C07 new.
        ("2025-01-01", 3, 2, 1, 1, 1, 4, pytest.approx(2 / 3), third, pytest.approx(160 / 210),
         pytest.approx(160 / 210), True),
        ("2025-02-01", 4, 0, 4, 0, 1, 1, 0.0, 1.0, 0.0, 0.0, True),  # only C12, reactivated
        ("2025-03-01", 1, 1, 0, 1, 1, 3, 1.0, 0.0, 1.0, 1.0, False),  # C12 stays, C01 back, C11 new
    ]
    assert got == [(d(p), *rest) for p, *rest in expected]


def test_customer_retention_by_quarter_and_year(marts):
    got = rows(marts, "SELECT grain, period_start, start_customers, retained_customers, churned_customers, "
                      "new_customers, reactivated_customers, end_customers, customer_retention_rate, "
                      "net_revenue_retention, is_complete_period FROM marts.customer_retention "
                      "WHERE grain IN ('quarter', 'year') ORDER BY grain, period_start")
    assert got == [
        ("quarter", d("2024-10-01"), 1, 0, 1, 7, 0, 7, 0.0, 0.0, True),
        # S = the 7 customers of Q4 (1,340.00); C05, C03, C01 stay with 340.00; C07, C11 new; C12 back.
        ("quarter", d("2025-01-01"), 7, 3, 4, 2, 1, 6, pytest.approx(3 / 7), pytest.approx(340 / 1340), False),
        # S = the 8 customers of 2024 with 1,540.00 (C12 200, C09 300, C10 300, C02 250, C03 80, C01 200,
        # C04 150, C05 60); in 2025 C05 60, C03 80, C01 200 and C12 1,000 spend 1,340.00.
        ("year", d("2025-01-01"), 8, 4, 4, 2, 0, 6, 0.5, pytest.approx(1340 / 1540), False),
    ]


def test_survey_scores_overall_and_by_tier(marts):
    overall = rows(marts, "SELECT month, nps_responses, promoters, passives, detractors, nps, csat_responses, "
                          "csat_satisfied, csat, is_complete_period FROM marts.survey_scores "
                          "WHERE breakdown = 'overall' ORDER BY month")
    assert overall == [
        # January: 10, 8, 3 -> one of each: NPS 0; CSAT 5 and 3 -> 50.
        (d("2025-01-01"), 3, 1, 1, 1, 0.0, 2, 1, 50.0, True),
        # 2025-01-31 20:00 UTC is February 1 in Shanghai.
        (d("2025-02-01"), 1, 1, 0, 0, 100.0, 0, 0, None, True),
        # March: 6, 9, 7, 10 (11 is out of scale, the 10 of March 20 is after T) -> (2 - 1) / 4; CSAT 4 (0 dropped).
        (d("2025-03-01"), 4, 2, 1, 1, 25.0, 1, 1, 100.0, False),
    ]
    by_tier = rows(marts, "SELECT month, customer_tier, nps_responses, nps, csat_responses, csat "
                          "FROM marts.survey_scores WHERE breakdown = 'customer_tier' ORDER BY month, customer_tier")
    assert by_tier == [
        (d("2025-01-01"), "churn_risk", 2, -50.0, 0, None),  # C02 passive, C09 detractor
        (d("2025-01-01"), "general", 0, None, 2, 50.0),  # C03 5, C05 3
        (d("2025-01-01"), "high_value", 1, 100.0, 0, None),  # C01 promoter
        (d("2025-02-01"), "churn_risk", 1, 100.0, 0, None),  # C10 promoter
        (d("2025-03-01"), "churn_risk", 0, None, 1, 100.0),  # C04 CSAT 4
        (d("2025-03-01"), "high_value", 2, 0.0, 0, None),  # C01 6, C12 9
        (d("2025-03-01"), "potential", 1, 100.0, 0, None),  # C11 10
        (d("2025-03-01"), "unscored", 1, 0.0, 0, None),  # C06 7, no completed order
    ]


def test_dim_customers_includes_customers_without_orders(marts):
    got = {r[0]: r[1:] for r in rows(marts, "SELECT customer_id, orders, revenue, cohort_month, customer_tier, "
                                            "latest_nps_score, latest_nps_category FROM marts.dim_customers")}
    assert len(got) == 12
    assert got["C06"] == (0, Decimal("0.00"), None, None, 7, "passive")
    assert got["C08"] == (0, Decimal("0.00"), None, None, None, None)  # a pending order only
    assert got["C01"] == (4, Decimal("400.00"), d("2024-11-01"), "high_value", 6, "detractor")
    assert got["C03"] == (2, Decimal("160.00"), d("2024-11-01"), "general", None, None)
    (email_hash,) = marts.execute("SELECT email_hash FROM marts.dim_customers WHERE customer_id = 'C01'").fetchone()
    assert len(email_hash) == 64 and "example" not in email_hash


def test_clv_summary_at_the_end_of_2025(tmp_path):
    """With T = 2025-12-31 the year 2025 is complete, so every factor of the formula CLV has a value.

    Tenure on 2025-12-31 (days): C12 508, C09 447, C10 442, C02 437, C03 425, C04 421, C01 416, C05 366,
    C07 350, C11 291. Yearly churn in 2025: of the eight 2024 customers, C09, C10, C02 and C04 did not return.
    """
    warehouse = build_marts(tmp_path, as_of_date="2025-12-31")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        got = {(r[0], r[1]): r[2:] for r in rows(con, "SELECT dimension, dimension_value, customers, orders, "
                                                       "revenue, average_order_value, observed_tenure_years, "
                                                       "purchase_frequency, annual_churn_rate, "
                                                       "expected_lifespan_years, clv FROM marts.clv_summary")}

    def expected(customers, orders, revenue, tenure_days_total, churned, start):
        tenure_years = tenure_days_total / customers / 365.25
        frequency = orders / customers / tenure_years
        churn = churned / start if start else None
        lifespan = 1 / churn if churn else None
        clv = revenue / orders * frequency * lifespan if lifespan else None
        return (customers, orders, Decimal(f"{revenue:.2f}"), pytest.approx(revenue / orders),
                pytest.approx(tenure_years), pytest.approx(frequency), churn and pytest.approx(churn),
                lifespan and pytest.approx(lifespan), clv and pytest.approx(clv))

    assert got == {
        ("acquisition_cohort_year", "2024"): expected(8, 16, 2880, 3462, 4, 8),
        ("acquisition_cohort_year", "2025"): expected(2, 2, 140, 641, 0, 0),  # never in a starting base
        ("acquisition_channel", "referral"): expected(4, 9, 960, 1699, 2, 4),  # C02, C04 gone
        ("acquisition_channel", "paid_search"): expected(4, 5, 820, 1605, 2, 3),  # C07 new in 2025
        ("acquisition_channel", "organic"): (2, 4, Decimal("1240.00"), 310.0, pytest.approx(399.5 / 365.25),
                                             pytest.approx(2 / (399.5 / 365.25)), 0.0, None, None),  # churn 0
    }


def dbt_after_tampering(directory: Path, statement: str, command: list[str]) -> tuple[Path, subprocess.CompletedProcess]:
    """Build the fixture's marts in `directory`, run `statement` on the warehouse, then the dbt `command`."""
    warehouse = build_marts(directory)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(statement)
    return warehouse, dbt(command, warehouse, directory / "target")


def test_a_broken_invariant_fails_the_build(tmp_path):
    """Shift one completed order by a cent under fct_orders (views over int_order_amounts): the reconciliation
    test fails."""
    _, result = dbt_after_tampering(
        tmp_path, "UPDATE intermediate.int_order_amounts SET net_revenue = net_revenue + 0.01 WHERE order_id = 'O01'",
        ["test", "--select", "assert_revenue_reconciles_across_marts"],
    )
    assert result.returncode != 0
    assert "assert_revenue_reconciles_across_marts" in result.stdout and "FAIL" in result.stdout


def test_a_null_in_a_not_null_mart_column_stops_that_mart(tmp_path):
    """Remove the (r 5, fm 5) cell from the segment seed: C01 (Champions) gets no segment, and the
    not_null constraint of customer_rfm.rfm_segment refuses the row, so the mart keeps its old rows."""
    warehouse, result = dbt_after_tampering(
        tmp_path, "DELETE FROM reference.rfm_segments WHERE r_score = 5 AND fm_score = 5",
        ["run", "--select", "customer_rfm"],
    )
    assert result.returncode != 0
    assert "NOT NULL constraint failed" in result.stdout and "rfm_segment" in result.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT rfm_segment FROM marts.customer_rfm WHERE customer_id = 'C01'").fetchall() == [
            ("Champions",)
        ]


def test_an_order_in_another_currency_stops_the_build_with_its_name(tmp_path):
    landing = tmp_path / "landing"
    from tests.mart_fixture import load_raw, orders_csv, write_mart_landing

    write_mart_landing(landing)
    (landing / "orders" / "orders.csv").write_text(orders_csv().replace("O05,C03,2024-10-31T23:30:00Z,completed,CNY",
                                                                        "O05,C03,2024-10-31T23:30:00Z,completed,USD"))
    warehouse = tmp_path / "warehouse.duckdb"
    load_raw(warehouse, landing)
    # No reporting currency set: the mix itself stops the build, saying how to set one.
    result = dbt(["build", "--select", "+int_orders"], warehouse, tmp_path / "target")
    assert result.returncode != 0
    assert ("the orders are in CNY, USD and no reporting currency is set: set RETENTION_REPORTING_CURRENCY"
            in result.stdout)
    # CNY set, and no rate for USD: the order is named.
    result = dbt(["build", "--select", "+int_orders", "--vars", '{"reporting_currency": "CNY"}'], warehouse,
                 tmp_path / "target")
    assert result.returncode != 0
    assert "order O05 is in USD but the reporting currency is CNY" in result.stdout


def test_repeat_purchase_summaries_for_the_predictive_models(marts):
    from orchestration.predictive.summaries import customer_summaries, summaries_at_as_of_date

    summaries = customer_summaries(marts, T)
    by_id = {
        customer: (x, t_x, age, value)
        for customer, x, t_x, age, value in zip(
            summaries.customer_id, summaries.purchases.frequency, summaries.purchases.recency,
            summaries.purchases.age, summaries.average_repeat_value, strict=True)
    }
    assert len(by_id) == 10  # customers with a completed order
    # (repeat purchases, weeks from first to last purchase, weeks from first purchase to T, repeat spend)
    # C12: Aug 10, Feb 20, Mar 1 (Aug 10 -> Mar 1 = 203 days, -> Mar 15 = 217 days).
    assert by_id["C12"] == pytest.approx((2, 203 / 7, 217 / 7, 500.0))
    # C05: Dec 30 and Jan 2; Dec 30 -> Mar 15 = 75 days.
    assert by_id["C05"] == pytest.approx((1, 3 / 7, 75 / 7, 60.0))
    # C03: O05 falls on Nov 1 in Shanghai, then Jan 5: 65 days; Nov 1 -> Mar 15 = 134 days.
    assert by_id["C03"] == pytest.approx((1, 65 / 7, 134 / 7, 80.0))
    # C04: one completed order (Nov 5); its void and returned orders are not purchases.
    assert by_id["C04"][:3] == pytest.approx((0, 0, 130 / 7)) and np.isnan(by_id["C04"][3])
    # C11 bought on T itself.
    assert by_id["C11"][:3] == (0, 0, 0)
    # At T, the same summaries come from the per-customer model (what a run scores with).
    kept = summaries_at_as_of_date(marts, T)
    np.testing.assert_array_equal(kept.customer_id, summaries.customer_id)
    for column in ("frequency", "recency", "age"):
        np.testing.assert_array_equal(getattr(kept.purchases, column), getattr(summaries.purchases, column))
    np.testing.assert_array_equal(kept.average_repeat_value, summaries.average_repeat_value)
