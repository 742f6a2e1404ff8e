"""Hand-computed checks of the pandas reference marts (tests/reference/pandas_marts.py).

The reference is the second method the dbt marts are cross-checked against,
so it gets its own tests, on a tiny staging schema written here directly:

    customer  CRM channel   completed orders (date: net revenue)
    A         referral      2024-01-10: 2*50-10 + 1*20 - 5 (order discount) = 105;  2024-03-05: 40
                            (+ a cancelled 500 on 2024-02-15, which never counts)
    B         referral      2024-01-20: 100;  2024-02-10: 60;  2024-03-20: 30
    C         paid_search   2024-02-05: 80
    D         (null)        2024-03-31: 200
    E         organic       none (a survey respondent only)
    X         not in CRM    2024-01-25: 50
    (+ a pending order of B on 2024-04-05)

The default as-of date T is 2024-03-31 (the latest completed order); total
completed net revenue 665.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.reference.pandas_marts import (
    build_customer_lifetime_value,
    build_customer_rfm,
    compute_marts,
    customer_activity,
    pooled_annual_churn_rate,
    quintile_score,
    reference_as_of_date,
)

STAGING_DDL = """
create schema staging;
create table staging.stg_orders__orders (
    order_id varchar, customer_id varchar, ordered_at timestamp, source_status varchar,
    order_status varchar, currency varchar, order_discount decimal(18, 2), order_total decimal(18, 2),
    sales_channel varchar, _source varchar, _source_file varchar, _row_number bigint
);
create table staging.stg_orders__order_items (
    order_id varchar, line_number integer, product_id varchar, product_category varchar,
    quantity integer, unit_price decimal(18, 2), line_discount decimal(18, 2),
    line_net_amount decimal(19, 2), _source varchar, _source_file varchar, _row_number bigint
);
create table staging.stg_crm__customers (
    customer_id varchar, customer_name varchar, email_hash varchar, phone_hash varchar,
    company varchar, industry varchar, country varchar, city varchar, acquisition_channel varchar,
    account_owner varchar, created_at timestamp, updated_at timestamp,
    _source varchar, _source_file varchar, _row_number bigint
);
create table staging.stg_surveys__survey_responses (
    response_id varchar, customer_id varchar, survey_type varchar, score integer,
    submitted_at timestamp, comment varchar, _source varchar, _source_file varchar, _row_number bigint
);
"""

# order_id, customer_id, ordered_at, order_status, order_discount, order_total
ORDERS = [
    ("o1", "A", "2024-01-10 09:00:00", "completed", 5.00, 999.00),  # has lines: the total is ignored
    ("o2", "A", "2024-03-05 12:00:00", "completed", 0.00, 40.00),
    ("o3", "A", "2024-02-15 12:00:00", "cancelled", 0.00, 500.00),
    ("o4", "B", "2024-01-20 08:00:00", "completed", 0.00, 100.00),
    ("o5", "B", "2024-02-10 08:00:00", "completed", 0.00, 60.00),
    ("o6", "B", "2024-03-20 08:00:00", "completed", 0.00, 30.00),
    ("o7", "C", "2024-02-05 23:59:59", "completed", 0.00, 80.00),
    ("o8", "D", "2024-03-31 23:30:00", "completed", 0.00, 200.00),
    ("o9", "X", "2024-01-25 10:00:00", "completed", 0.00, 50.00),
    ("o10", "B", "2024-04-05 10:00:00", "pending", 0.00, 70.00),
]
# order_id, line_number, quantity, unit_price, line_discount
ORDER_LINES = [
    ("o1", 1, 2, 50.00, 10.00),
    ("o1", 2, 1, 20.00, 0.00),
]
# customer_id, acquisition_channel
CUSTOMERS = [("A", "referral"), ("B", "referral"), ("C", "paid_search"), ("D", None), ("E", "organic")]
# customer_id, survey_type, score, submitted_at
SURVEY_RESPONSES = [
    ("A", "nps", 10, "2024-03-02 10:00:00"),
    ("B", "nps", 7, "2024-03-10 10:00:00"),
    ("X", "nps", 3, "2024-03-15 10:00:00"),
    ("E", "nps", 9, "2024-03-20 10:00:00"),
    ("C", "nps", 11, "2024-03-21 10:00:00"),  # outside the scale
    ("A", "csat", 5, "2024-03-03 10:00:00"),
    ("B", "csat", 3, "2024-03-04 10:00:00"),
    ("C", "csat", 0, "2024-03-05 10:00:00"),  # outside the scale
    ("D", "csat", None, "2024-03-06 10:00:00"),  # no score
    ("A", "nps", 8, "2024-04-01 10:00:00"),  # after T
    ("B", "nps", 0, "2024-02-29 10:00:00"),
]


def write_tiny_warehouse(path: Path) -> Path:
    """Create the staging schema of the module docstring in a new DuckDB file."""
    orders = pd.DataFrame(
        ORDERS,
        columns=["order_id", "customer_id", "ordered_at", "order_status", "order_discount", "order_total"],
    ).assign(source_status=lambda frame: frame["order_status"], currency="CNY", sales_channel="web", _source="test")
    lines = pd.DataFrame(
        ORDER_LINES, columns=["order_id", "line_number", "quantity", "unit_price", "line_discount"]
    ).assign(line_net_amount=lambda frame: frame["quantity"] * frame["unit_price"] - frame["line_discount"])
    customers = pd.DataFrame(CUSTOMERS, columns=["customer_id", "acquisition_channel"]).assign(
        customer_name=lambda frame: "Customer " + frame["customer_id"]
    )
    responses = pd.DataFrame(
        SURVEY_RESPONSES, columns=["customer_id", "survey_type", "score", "submitted_at"]
    ).assign(
        response_id=lambda frame: "r" + frame.index.astype(str),
        score=lambda frame: frame["score"].astype("Int32"),  # nullable: one response has no score
    )
    with duckdb.connect(str(path)) as con:
        con.execute(STAGING_DDL)
        for table, frame in (
            ("stg_orders__orders", orders),
            ("stg_orders__order_items", lines),
            ("stg_crm__customers", customers),
            ("stg_surveys__survey_responses", responses),
        ):
            con.register("frame", frame)
            con.execute(f"insert into staging.{table} by name select * from frame")
            con.unregister("frame")
    return path


@pytest.fixture
def tiny_warehouse(tmp_path: Path) -> Path:
    """The tiny staging warehouse of the module docstring."""
    return write_tiny_warehouse(tmp_path / "tiny.duckdb")


@pytest.fixture
def marts(tiny_warehouse: Path) -> dict[str, pd.DataFrame]:
    """The reference marts of the tiny warehouse at the default as-of date."""
    return compute_marts(tiny_warehouse)


def rows_by(frame: pd.DataFrame, key: str) -> dict[object, dict[str, object]]:
    """Rows of a frame as dicts keyed by one column, for readable assertions."""
    return {row[key]: row for row in frame.to_dict("records")}


def test_default_as_of_date_is_the_latest_completed_order(tiny_warehouse: Path) -> None:
    assert reference_as_of_date(tiny_warehouse) == date(2024, 3, 31)


def test_revenue_is_net_of_line_and_order_discounts(marts: dict[str, pd.DataFrame]) -> None:
    fct = rows_by(marts["fct_orders"], "order_id")
    assert fct["o1"]["net_revenue"] == 105.00  # 2*50 - 10 + 1*20 - 0 - 5, not the total 999
    assert fct["o2"]["net_revenue"] == 40.00  # no lines: the order total
    assert not fct["o3"]["is_completed"]  # cancelled: in the fact, not in revenue
    assert "o10" not in fct  # dated after T
    assert len(fct) == 9
    completed = marts["fct_orders"].loc[marts["fct_orders"]["is_completed"], "net_revenue"].sum()
    assert completed == pytest.approx(665.00)
    assert marts["customer_lifetime_value"]["historical_revenue"].sum() == pytest.approx(665.00)
    assert marts["cohort_retention"].query("grain == 'month'")["revenue"].sum() == pytest.approx(665.00)


def test_customer_lifetime_value(marts: dict[str, pd.DataFrame]) -> None:
    clv = rows_by(marts["customer_lifetime_value"], "customer_id")
    assert set(clv) == {"A", "B", "C", "D", "X"}  # X is not in the CRM but bought; E never bought
    assert clv["A"]["orders"] == 2
    assert clv["A"]["historical_revenue"] == 145.00
    assert clv["A"]["average_order_value"] == 72.50
    assert clv["A"]["first_order_date"] == pd.Timestamp("2024-01-10")
    assert clv["A"]["last_order_date"] == pd.Timestamp("2024-03-05")
    assert {customer: row["tenure_days"] for customer, row in clv.items()} == {
        "A": 81,  # 21 days of January + 29 of (leap) February + 31 of March
        "B": 71,
        "C": 55,
        "D": 0,
        "X": 66,
    }


def test_cohort_grid_keeps_zero_activity_periods(marts: dict[str, pd.DataFrame]) -> None:
    monthly = marts["cohort_retention"].query("grain == 'month'")
    cells = {(row["cohort_period"].strftime("%Y-%m"), row["period_number"]): row for row in monthly.to_dict("records")}
    assert sorted(cells) == [
        ("2024-01", 0), ("2024-01", 1), ("2024-01", 2),
        ("2024-02", 0), ("2024-02", 1),
        ("2024-03", 0),
    ]

    january = [cells[("2024-01", k)] for k in range(3)]
    assert [row["cohort_size"] for row in january] == [3, 3, 3]  # A, B, X
    assert [row["active_customers"] for row in january] == [3, 1, 2]  # March: B and A again
    assert [row["retention_rate"] for row in january] == pytest.approx([1.0, 1 / 3, 2 / 3])
    assert [row["revenue"] for row in january] == [255.00, 60.00, 70.00]
    assert [row["revenue_retention"] for row in january] == pytest.approx([1.0, 60 / 255, 70 / 255])
    assert [row["cumulative_revenue"] for row in january] == [255.00, 315.00, 385.00]
    assert [row["cumulative_revenue_per_customer"] for row in january] == pytest.approx([85.0, 105.0, 385 / 3])

    february_in_march = cells[("2024-02", 1)]  # C bought only in February: a row with zeros, not a gap
    assert february_in_march["period_start"] == pd.Timestamp("2024-03-01")
    assert february_in_march["active_customers"] == 0
    assert february_in_march["retention_rate"] == 0.0
    assert february_in_march["revenue"] == 0.0
    assert february_in_march["revenue_retention"] == 0.0
    assert february_in_march["cumulative_revenue"] == 80.00
    assert monthly["is_complete_period"].all()  # March ends on T

    weekly = marts["cohort_retention"].query("grain == 'week'")
    assert weekly["cohort_size"].groupby(weekly["cohort_period"]).first().sum() == 5
    assert (weekly["cohort_period"].dt.dayofweek == 0).all()  # ISO weeks start on Monday
    assert weekly["period_number"].max() == 11  # week of 2024-01-08 .. week of 2024-03-25: 77 days
    assert weekly["revenue"].sum() == pytest.approx(665.00)


def test_period_retention_counts_a_reactivated_customer(marts: dict[str, pd.DataFrame]) -> None:
    monthly = marts["customer_retention"].query("grain == 'month'")
    periods = {row["period_start"].strftime("%Y-%m"): row for row in monthly.to_dict("records")}
    assert sorted(periods) == ["2024-02", "2024-03"]  # from the period after the first one with data

    february = periods["2024-02"]  # base A, B, X; B stays; C is new
    assert (february["start_customers"], february["retained_customers"], february["churned_customers"]) == (3, 1, 2)
    assert (february["new_customers"], february["reactivated_customers"], february["end_customers"]) == (1, 0, 2)
    assert february["customer_retention_rate"] == pytest.approx(1 / 3)
    assert february["churn_rate"] == pytest.approx(2 / 3)
    assert february["start_base_previous_revenue"] == 255.00
    assert february["start_base_revenue"] == 60.00
    assert february["net_revenue_retention"] == pytest.approx(60 / 255)
    assert february["gross_revenue_retention"] == pytest.approx(60 / 255)

    march = periods["2024-03"]  # base B, C; B stays; D is new; A comes back after skipping February
    assert (march["start_customers"], march["retained_customers"], march["churned_customers"]) == (2, 1, 1)
    assert (march["new_customers"], march["reactivated_customers"], march["end_customers"]) == (1, 1, 3)
    assert march["customer_retention_rate"] == 0.5
    assert march["start_base_previous_revenue"] == 140.00  # B 60 + C 80
    assert march["start_base_revenue"] == 30.00  # A's 40 is not from the base
    assert march["net_revenue_retention"] == pytest.approx(30 / 140)
    assert march["gross_revenue_retention"] == pytest.approx(30 / 140)
    assert march["is_complete_period"]

    # T falls in the first quarter and year: no period after the first one yet.
    assert marts["customer_retention"].query("grain != 'month'").empty


def test_empty_start_base_gives_null_rates(tiny_warehouse: Path) -> None:
    marts = compute_marts(tiny_warehouse, as_of_date=date(2024, 5, 31))
    monthly = {
        row["period_start"].strftime("%Y-%m"): row
        for row in marts["customer_retention"].query("grain == 'month'").to_dict("records")
    }
    assert sorted(monthly) == ["2024-02", "2024-03", "2024-04", "2024-05"]  # empty months are rows too
    april = monthly["2024-04"]  # A, B, D bought in March, nobody since (B's April order is pending)
    assert (april["start_customers"], april["churned_customers"], april["end_customers"]) == (3, 3, 0)
    assert april["customer_retention_rate"] == 0.0
    assert april["net_revenue_retention"] == 0.0
    may = monthly["2024-05"]
    assert (may["start_customers"], may["end_customers"]) == (0, 0)
    for rate in ("customer_retention_rate", "churn_rate", "net_revenue_retention", "gross_revenue_retention"):
        assert math.isnan(may[rate]), rate
    assert may["is_complete_period"]

    quarter = marts["customer_retention"].query("grain == 'quarter'").iloc[0]
    assert quarter["period_start"] == pd.Timestamp("2024-04-01")
    assert (quarter["start_customers"], quarter["churned_customers"]) == (5, 5)
    assert not quarter["is_complete_period"]  # Q2 ends 2024-06-30, after T

    assert "o10" in set(marts["fct_orders"]["order_id"])  # now dated before T


def test_rfm_scores_segments_and_tiers(marts: dict[str, pd.DataFrame]) -> None:
    rfm = rows_by(marts["customer_rfm"], "customer_id")
    scores = {
        customer: tuple(
            row[column]
            for column in ("recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "fm_score")
        )
        for customer, row in rfm.items()
    }
    # n = 5, so score = rnk. Frequency 1 is shared by C, D and X: all get rank 1, A rank 4, B rank 5.
    assert scores == {
        "A": (26, 2, 145.00, 3, 4, 3, 4),
        "B": (11, 3, 190.00, 4, 5, 4, 5),
        "C": (55, 1, 80.00, 2, 1, 2, 2),  # fm = round(1.5) = 2, halves up
        "D": (0, 1, 200.00, 5, 1, 5, 3),
        "X": (66, 1, 50.00, 1, 1, 1, 1),
    }
    assert {customer: (row["rfm_segment"], row["customer_tier"]) for customer, row in rfm.items()} == {
        "A": ("Loyal Customers", "high_value"),
        "B": ("Loyal Customers", "high_value"),
        "C": ("Hibernating", "churn_risk"),
        "D": ("Potential Loyalist", "potential"),
        "X": ("Lost", "churn_risk"),
    }


def test_quintile_score_gives_ties_the_same_score() -> None:
    values = pd.Series([10, 20, 20, 30, 40, 50, 50, 50, 60, 70])
    # RANK(): 1, 2, 2, 4, 5, 6, 6, 6, 9, 10; score = 1 + floor(5 * (rnk - 1) / 10).
    assert quintile_score(values, ascending=True).tolist() == [1, 1, 1, 2, 3, 3, 3, 3, 5, 5]
    # Worst first by most days (recency): the largest value gets score 1.
    assert quintile_score(pd.Series([30, 10, 10, 0]), ascending=False).tolist() == [1, 2, 2, 4]


def test_equal_monetary_amounts_tie_whatever_float_sums_give() -> None:
    # 0.10 + 0.20 is 0.30000000000000004 in floats; money is rounded to the cent, so P and Q tie.
    day = pd.Timestamp("2024-01-01")
    purchases = pd.DataFrame(
        {"customer_key": [0, 0, 1, 2], "order_date": [day, day, day, day], "net_revenue": [0.10, 0.20, 0.30, 0.40]}
    )
    clv = build_customer_lifetime_value(purchases, pd.Index(["P", "Q", "R"], name="customer_id"), day)
    rfm = rows_by(build_customer_rfm(clv, day), "customer_id")
    assert rfm["P"]["monetary"] == rfm["Q"]["monetary"] == 0.30
    assert rfm["P"]["m_score"] == rfm["Q"]["m_score"] == 1
    assert rfm["R"]["m_score"] == 1 + (5 * 2) // 3  # rank 3 of 3 -> 4


def test_clv_summary_factors(marts: dict[str, pd.DataFrame]) -> None:
    summary = {(row["dimension"], row["dimension_value"]): row for row in marts["clv_summary"].to_dict("records")}
    assert sorted(summary) == [
        ("acquisition_channel", "paid_search"),
        ("acquisition_channel", "referral"),
        ("acquisition_channel", "unknown"),  # D has no channel, X is not in the CRM
        ("acquisition_cohort_year", "2024"),
    ]
    unknown = summary[("acquisition_channel", "unknown")]
    assert (unknown["customers"], unknown["orders"], unknown["revenue"]) == (2, 2, 250.00)
    assert unknown["average_order_value"] == 125.0
    assert unknown["observed_tenure_years"] == pytest.approx(33 / 365.25)  # mean of 0 and 66 days
    assert unknown["purchase_frequency"] == pytest.approx(1 / (33 / 365.25))

    year = summary[("acquisition_cohort_year", "2024")]
    assert (year["customers"], year["orders"], year["revenue"]) == (5, 8, 665.00)
    assert year["observed_tenure_years"] == pytest.approx((81 + 71 + 55 + 0 + 66) / 5 / 365.25)
    # No complete yearly period yet: no churn rate, so no lifespan and no CLV.
    assert math.isnan(year["annual_churn_rate"])
    assert math.isnan(year["expected_lifespan_years"])
    assert math.isnan(year["clv"])


def test_pooled_annual_churn_uses_complete_years_only() -> None:
    # 2022: customers 0-3; 2023: 0 and 1 (2 of 4 churn); 2024: 2 only (0 and 1 churn).
    orders = [(0, "2022-03-01"), (1, "2022-04-01"), (2, "2022-05-01"), (3, "2022-06-01"),
              (0, "2023-03-01"), (1, "2023-04-01"), (2, "2024-02-01")]
    purchases = pd.DataFrame(
        {
            "customer_key": [key for key, _ in orders],
            "order_date": pd.to_datetime([day for _, day in orders]).astype("datetime64[us]"),
            "net_revenue": 10.0,
        }
    )
    yearly = customer_activity(purchases, "year")
    assert pooled_annual_churn_rate(yearly, pd.Timestamp("2024-06-30")) == 2 / 4  # 2024 not complete
    assert pooled_annual_churn_rate(yearly, pd.Timestamp("2024-12-31")) == (2 + 2) / (4 + 2)

    assert math.isnan(pooled_annual_churn_rate(yearly.iloc[0:0], pd.Timestamp("2024-12-31")))  # nobody to churn


def test_survey_scores_overall_and_by_tier(marts: dict[str, pd.DataFrame]) -> None:
    scores = {}
    for row in marts["survey_scores"].to_dict("records"):
        tier = row["customer_tier"] if isinstance(row["customer_tier"], str) else None  # overall: missing
        scores[(row["month"].strftime("%Y-%m"), row["breakdown"], tier)] = row
    assert sorted(scores, key=str) == sorted(
        [
            ("2024-02", "overall", None),
            ("2024-02", "customer_tier", "high_value"),
            ("2024-03", "overall", None),
            ("2024-03", "customer_tier", "high_value"),
            ("2024-03", "customer_tier", "churn_risk"),
            ("2024-03", "customer_tier", "unscored"),  # E answered but never bought
        ],
        key=str,
    )
    march = scores[("2024-03", "overall", None)]
    # NPS: A 10, B 7, X 3, E 9 (C's 11 is outside the scale, A's April answer after T).
    assert (march["nps_responses"], march["promoters"], march["passives"], march["detractors"]) == (4, 2, 1, 1)
    assert march["nps"] == 25.0
    # CSAT: A 5, B 3 (C's 0 and D's missing score are excluded).
    assert (march["csat_responses"], march["csat_satisfied"], march["csat"]) == (2, 1, 50.0)
    assert scores[("2024-03", "customer_tier", "churn_risk")]["nps"] == -100.0
    assert math.isnan(scores[("2024-03", "customer_tier", "churn_risk")]["csat"])
    assert scores[("2024-03", "customer_tier", "high_value")]["nps"] == 50.0
    assert scores[("2024-02", "overall", None)]["nps"] == -100.0
    assert math.isnan(scores[("2024-02", "overall", None)]["csat"])
    assert march["is_complete_period"]


def test_timestamps_at_the_end_of_the_day_stay_on_their_date(marts: dict[str, pd.DataFrame]) -> None:
    fct = rows_by(marts["fct_orders"], "order_id")
    assert fct["o7"]["order_date"] == pd.Timestamp("2024-02-05")
    assert fct["o8"]["order_date"] == pd.Timestamp(datetime(2024, 3, 31))
