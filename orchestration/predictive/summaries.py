"""Repeat-purchase summaries of our customers, computed in DuckDB from the order fact.

A purchase occasion is a day with at least one completed order (same-day
orders are combined, as in the BG/NBD paper); times are in weeks. The first
occasion starts the customer's clock and is not a repeat purchase; spend is
the average net revenue of the repeat occasions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np

from orchestration.predictive.bgnbd import RepeatPurchases

DAYS_PER_WEEK = 7.0
ORDER_FACT = "intermediate.int_orders"
CUSTOMER_ORDERS = "intermediate.int_customer_orders"


@dataclass(frozen=True)
class CustomerSummaries:
    """One row per customer with a completed order up to the cut-off (numpy columns)."""

    customer_id: np.ndarray
    purchases: RepeatPurchases
    average_repeat_value: np.ndarray  # NaN without repeat purchases


def occasions_sql(cut_off: str) -> str:
    """SQL: one row per customer and purchase day up to `cut_off` (a SQL date expression), with its revenue."""
    return f"""
        SELECT customer_id, order_date AS day, sum(net_revenue) AS revenue
        FROM {ORDER_FACT}
        WHERE is_completed AND NOT is_guest AND order_date <= {cut_off}
        GROUP BY customer_id, order_date
    """


def customer_summaries(con: duckdb.DuckDBPyConnection, cut_off: date) -> CustomerSummaries:
    """Frequency, recency and age (weeks) at `cut_off`, and the average repeat spend, per customer."""
    per_customer = f"""
        WITH occasions AS ({occasions_sql("CAST($cut_off AS DATE)")})
        SELECT customer_id, count(*) AS purchase_days, min(day) AS first_day, max(day) AS last_day,
               sum(revenue) AS revenue, arg_min(revenue, day) AS first_day_revenue
        FROM occasions GROUP BY customer_id
    """
    return _summaries(con, per_customer, cut_off)


def summaries_at_as_of_date(con: duckdb.DuckDBPyConnection, as_of: date) -> CustomerSummaries:
    """customer_summaries at T (`as_of`, int_as_of_date), read from the per-customer model dbt keeps
    incrementally (int_customer_orders) instead of from every order (3.7 s at ten million orders)."""
    per_customer = f"""
        SELECT customer_id, purchase_days, first_order_date AS first_day, last_order_date AS last_day,
               revenue, first_day_revenue
        FROM {CUSTOMER_ORDERS}
    """
    return _summaries(con, per_customer, as_of)


def _summaries(con: duckdb.DuckDBPyConnection, per_customer: str, cut_off: date) -> CustomerSummaries:
    """The summaries from `per_customer` (SQL: customer_id, purchase_days, first_day, last_day, revenue and
    first_day_revenue of the purchase days up to `cut_off`, bound as $cut_off)."""
    columns = con.execute(f"""
        SELECT customer_id,
               purchase_days - 1 AS frequency,
               date_diff('day', first_day, last_day) / {DAYS_PER_WEEK} AS recency,
               date_diff('day', first_day, CAST($cut_off AS DATE)) / {DAYS_PER_WEEK} AS age,
               CASE WHEN purchase_days > 1
                    THEN CAST(revenue - first_day_revenue AS DOUBLE) / (purchase_days - 1) END AS repeat_value
        FROM ({per_customer}) AS per_customer
        ORDER BY customer_id
    """, {"cut_off": cut_off}).fetchnumpy()
    purchases = RepeatPurchases(
        np.asarray(columns["frequency"], dtype=float), np.asarray(columns["recency"], dtype=float),
        np.asarray(columns["age"], dtype=float),
    )
    repeat_value = np.ma.filled(np.ma.asarray(columns["repeat_value"], dtype=float), np.nan)
    return CustomerSummaries(np.asarray(columns["customer_id"]), purchases, repeat_value)


def grouped_for_fitting(summaries: CustomerSummaries) -> RepeatPurchases:
    """Identical (x, t_x, T) rows merged with a weight: the same likelihood, fewer evaluations."""
    p = summaries.purchases
    triples = np.stack([p.frequency, p.recency, p.age], axis=1)
    unique, counts = np.unique(triples, axis=0, return_counts=True)
    return RepeatPurchases(unique[:, 0], unique[:, 1], unique[:, 2], counts.astype(float))


def holdout_actuals(con: duckdb.DuckDBPyConnection, calibration_end: date, as_of: date) -> dict[str, np.ndarray]:
    """Repeat purchase days per customer and per holdout week in (calibration_end, as_of].

    Only customers whose first purchase is on or before calibration_end count (the calibrated ones).
    Returns {"customer_id", "purchases"} per customer (sorted by id) and {"week", "purchases"} per week.
    """
    per_customer = con.execute(f"""
        WITH occasions AS ({occasions_sql("CAST(? AS DATE)")}),
        calibrated AS (SELECT customer_id FROM occasions GROUP BY customer_id HAVING min(day) <= CAST(? AS DATE))
        SELECT calibrated.customer_id, count(occasions.day) AS purchases
        FROM calibrated LEFT JOIN occasions
            ON occasions.customer_id = calibrated.customer_id AND occasions.day > CAST(? AS DATE)
        GROUP BY calibrated.customer_id ORDER BY calibrated.customer_id
    """, [as_of, calibration_end, calibration_end]).fetchnumpy()
    per_week = con.execute(f"""
        WITH occasions AS ({occasions_sql("CAST(? AS DATE)")}),
        calibrated AS (SELECT customer_id FROM occasions GROUP BY customer_id HAVING min(day) <= CAST(? AS DATE))
        SELECT CAST(ceil(date_diff('day', CAST(? AS DATE), day) / {DAYS_PER_WEEK}) AS INTEGER) AS week,
               count(*) AS purchases
        FROM occasions SEMI JOIN calibrated USING (customer_id)
        WHERE day > CAST(? AS DATE)
        GROUP BY week ORDER BY week
    """, [as_of, calibration_end, calibration_end, calibration_end]).fetchnumpy()
    return {"customer_id": np.asarray(per_customer["customer_id"]),
            "purchases": np.asarray(per_customer["purchases"], dtype=float),
            "week": np.asarray(per_week["week"], dtype=int),
            "week_purchases": np.asarray(per_week["purchases"], dtype=float)}
