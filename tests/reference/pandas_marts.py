"""A plain pandas implementation of the marts defined in METRICS.md.

This is the "second method" the tests use to cross-check the dbt marts, and
the baseline the benchmark compares dbt against: the code a user would write
without the warehouse. It deliberately shares nothing with the SQL models:
the staging tables are pulled into pandas as they are (DuckDB only reads
them; every filter, join and aggregate is done here), periods come from
pandas' own calendar (`Series.dt.to_period`) rather than `date_trunc`, and
each mart is computed straight from its definition.

Conventions of the returned frames:
- dates are `datetime64[us]` at midnight (what DuckDB's `.df()` gives for a DATE);
- money is float, rounded to the cent after every sum, so that equal decimal
  amounts compare equal (ties in RFM) and totals match the SQL DECIMALs;
- a "null" rate is NaN in a float column (None in object/string columns).

Customers are handled through an integer `customer_key` (the position of the
customer_id in a factorised array) because hashing ints instead of strings
keeps the 10-million-order groupbys and merges fast and small; the key never
leaves this module.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

# pandas period frequency of each grain; W-SUN = weeks ending Sunday, i.e. ISO weeks starting Monday.
GRAIN_FREQUENCY = {"week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}
COHORT_GRAINS = ("month", "week")
RETENTION_GRAINS = ("month", "quarter", "year")
DAYS_PER_YEAR = 365.25
RETENTION_COUNT_COLUMNS = (
    "start_customers", "retained_customers", "churned_customers",
    "new_customers", "reactivated_customers", "end_customers",
)

# rfm_segment by r_score (key) and fm_score (position 1..5 in the tuple).
SEGMENT_GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: ("New Customers", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"),
    4: ("Promising", "Potential Loyalist", "Potential Loyalist", "Loyal Customers", "Loyal Customers"),
    3: ("About To Sleep", "About To Sleep", "Need Attention", "Loyal Customers", "Loyal Customers"),
    2: ("Hibernating", "Hibernating", "At Risk", "At Risk", "Cannot Lose Them"),
    1: ("Lost", "Hibernating", "At Risk", "At Risk", "Cannot Lose Them"),
}
SEGMENT_TIER = {
    "Champions": "high_value",
    "Loyal Customers": "high_value",
    "Potential Loyalist": "potential",
    "New Customers": "potential",
    "Promising": "potential",
    "Need Attention": "general",
    "About To Sleep": "general",
    "At Risk": "churn_risk",
    "Cannot Lose Them": "churn_risk",
    "Hibernating": "churn_risk",
    "Lost": "churn_risk",
}
UNSCORED_TIER = "unscored"
UNKNOWN_CHANNEL = "unknown"

MART_NAMES = (
    "fct_orders",
    "customer_lifetime_value",
    "cohort_retention",
    "customer_retention",
    "clv_summary",
    "customer_rfm",
    "survey_scores",
)


# --------------------------------------------------------------------------- loading


def read_staging(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> pd.DataFrame:
    """Return the named columns of staging.<table> as a pandas frame (a plain read, no computation)."""
    return con.sql(f"select {', '.join(columns)} from staging.{table}").df()


def load_orders(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Orders with the columns the marts need; amounts as float."""
    orders = read_staging(
        con,
        "stg_orders__orders",
        ["order_id", "customer_id", "ordered_at", "order_status", "order_discount", "order_total"],
    )
    # Four statuses only: a categorical stores 10 million of them in 10 MB.
    orders["order_status"] = orders["order_status"].astype("category")
    for column in ("order_discount", "order_total"):
        orders[column] = orders[column].astype(float)
    return orders


def load_order_lines(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Order lines reduced to what net revenue needs: order_id and line_net_amount."""
    lines = read_staging(con, "stg_orders__order_items", ["order_id", "line_net_amount"])
    lines["line_net_amount"] = lines["line_net_amount"].astype(float)
    return lines


def load_customers(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """CRM customers (one row each) with the attribute clv_summary groups by."""
    return read_staging(con, "stg_crm__customers", ["customer_id", "acquisition_channel"])


def load_survey_responses(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Survey responses: who answered which survey with which score, when."""
    return read_staging(
        con, "stg_surveys__survey_responses", ["customer_id", "survey_type", "score", "submitted_at"]
    )


# --------------------------------------------------------------------------- as-of date


def default_as_of_date(orders: pd.DataFrame) -> pd.Timestamp:
    """The date of the latest completed order (the default as-of date T) as a midnight Timestamp."""
    completed_at = orders.loc[orders["order_status"] == "completed", "ordered_at"]
    if completed_at.dropna().empty:
        raise ValueError("no completed orders: the default as-of date is undefined")
    return completed_at.max().normalize()


def reference_as_of_date(warehouse_path: Path) -> date:
    """Return the default as-of date T of the warehouse: the date of its latest completed order."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        orders = read_staging(con, "stg_orders__orders", ["ordered_at", "order_status"])
    return default_as_of_date(orders).date()


# --------------------------------------------------------------------------- periods


def period_ordinal(dates: pd.Series, grain: str) -> np.ndarray:
    """Integer number of the period containing each date; consecutive periods differ by exactly 1."""
    return dates.dt.to_period(GRAIN_FREQUENCY[grain]).array.asi8


def period_start(ordinals: np.ndarray, grain: str) -> np.ndarray:
    """First day of each period, as datetime64[us]."""
    periods = pd.PeriodIndex.from_ordinals(np.asarray(ordinals, dtype=np.int64), freq=GRAIN_FREQUENCY[grain])
    return periods.start_time.normalize().to_numpy(dtype="datetime64[us]")


def period_end(ordinals: np.ndarray, grain: str) -> np.ndarray:
    """Last day of each period (not its last instant), as datetime64[us]."""
    periods = pd.PeriodIndex.from_ordinals(np.asarray(ordinals, dtype=np.int64), freq=GRAIN_FREQUENCY[grain])
    return periods.end_time.normalize().to_numpy(dtype="datetime64[us]")


def as_of_ordinal(as_of: pd.Timestamp, grain: str) -> int:
    """Ordinal of the period containing T (the last period of every mart)."""
    return int(period_ordinal(pd.Series([as_of]), grain)[0])


# --------------------------------------------------------------------------- orders


def build_fct_orders(orders: pd.DataFrame, lines: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per order dated on or before T, with its net revenue (whatever its status).

    Net revenue = sum of the lines' net amounts - order discount when the order
    has lines, else the order's total.
    """
    orders = orders.assign(order_date=orders["ordered_at"].dt.normalize())
    # A missing date is never "<= T", so such an order counts nowhere.
    orders = orders.loc[orders["order_date"] <= as_of]

    line_totals = lines.groupby("order_id", sort=False).agg(
        line_count=("line_net_amount", "size"), lines_net=("line_net_amount", "sum")
    )
    orders = orders.join(line_totals, on="order_id")
    has_lines = orders["line_count"].notna()
    net_revenue = np.where(has_lines, orders["lines_net"] - orders["order_discount"], orders["order_total"])

    # Columns are taken as Series: .to_numpy() would turn 10 million Arrow strings into Python objects.
    fct_orders = orders[["order_id", "customer_id", "order_date"]].reset_index(drop=True)
    fct_orders["order_date"] = fct_orders["order_date"].astype("datetime64[us]")
    fct_orders["order_status"] = orders["order_status"].astype(str).to_numpy()
    fct_orders["is_completed"] = (orders["order_status"] == "completed").to_numpy()
    fct_orders["net_revenue"] = np.round(net_revenue, 2)
    return fct_orders


def completed_purchases(fct_orders: pd.DataFrame) -> tuple[pd.DataFrame, pd.Index]:
    """Completed orders as (customer_key, order_date, net_revenue), and the customer_id of each key.

    Completed orders without a customer_id cannot be attributed to a
    customer, so they stay in fct_orders only.
    """
    completed = fct_orders.loc[fct_orders["is_completed"] & fct_orders["customer_id"].notna()]
    keys, customer_ids = pd.factorize(completed["customer_id"])
    purchases = pd.DataFrame(
        {
            "customer_key": keys.astype(np.int32),
            "order_date": completed["order_date"].to_numpy(),
            "net_revenue": completed["net_revenue"].to_numpy(),
        }
    )
    return purchases, pd.Index(customer_ids, name="customer_id")


def customer_activity(purchases: pd.DataFrame, grain: str) -> pd.DataFrame:
    """One row per customer and period with a completed order: customer_key, period (ordinal), revenue."""
    activity = (
        purchases.assign(period=period_ordinal(purchases["order_date"], grain))
        .groupby(["customer_key", "period"], as_index=False, sort=False)["net_revenue"]
        .sum()
        .rename(columns={"net_revenue": "revenue"})
    )
    activity["revenue"] = activity["revenue"].round(2)
    return activity


# --------------------------------------------------------------------------- customer lifetime value


def build_customer_lifetime_value(
    purchases: pd.DataFrame, customer_ids: pd.Index, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Per customer with a completed order: orders, revenue, AOV, first and last order, tenure.

    Keeps `customer_key` as the first column (callers drop it before returning).
    """
    per_customer = purchases.groupby("customer_key").agg(
        orders=("net_revenue", "size"),
        historical_revenue=("net_revenue", "sum"),
        first_order_date=("order_date", "min"),
        last_order_date=("order_date", "max"),
    )
    per_customer["historical_revenue"] = per_customer["historical_revenue"].round(2)
    per_customer["average_order_value"] = per_customer["historical_revenue"] / per_customer["orders"]
    per_customer["tenure_days"] = (as_of - per_customer["first_order_date"]).dt.days.astype(np.int64)
    per_customer = per_customer.reset_index()
    per_customer.insert(1, "customer_id", customer_ids.take(per_customer["customer_key"].to_numpy()))
    columns = [
        "customer_key",
        "customer_id",
        "orders",
        "historical_revenue",
        "average_order_value",
        "first_order_date",
        "last_order_date",
        "tenure_days",
    ]
    return per_customer[columns].sort_values("customer_id", ignore_index=True)


# --------------------------------------------------------------------------- cohort retention


def build_cohort_retention(activity: pd.DataFrame, grain: str, as_of: pd.Timestamp) -> pd.DataFrame:
    """Cohort x period_number grid of one grain, every k from 0 to the period containing T."""
    last_period = as_of_ordinal(as_of, grain)
    cohort_of = activity.groupby("customer_key")["period"].min().rename("cohort")
    cohort_size = cohort_of.value_counts().sort_index().rename("cohort_size")

    # Actual activity per (cohort, k): one activity row is one active customer.
    active = activity.join(cohort_of, on="customer_key")
    active["period_number"] = active["period"] - active["cohort"]
    cells = active.groupby(["cohort", "period_number"]).agg(
        active_customers=("customer_key", "size"), revenue=("revenue", "sum")
    )

    # The complete grid, so that periods without any active customer are rows with 0.
    cohorts = cohort_size.index.to_numpy(dtype=np.int64)
    lengths = last_period - cohorts + 1
    period_numbers = [np.arange(n, dtype=np.int64) for n in lengths]
    grid = pd.DataFrame(
        {
            "cohort": np.repeat(cohorts, lengths),
            "period_number": np.concatenate(period_numbers) if period_numbers else np.array([], dtype=np.int64),
        }
    )
    grid = grid.join(cohort_size, on="cohort").join(cells, on=["cohort", "period_number"])
    grid["active_customers"] = grid["active_customers"].fillna(0).astype(np.int64)
    grid["revenue"] = grid["revenue"].fillna(0.0).round(2)

    grid["retention_rate"] = grid["active_customers"] / grid["cohort_size"]
    first_revenue = grid.groupby("cohort")["revenue"].transform("first")  # the grid is sorted by k
    grid["revenue_retention"] = (grid["revenue"] / first_revenue).where(first_revenue != 0)
    grid["cumulative_revenue"] = grid.groupby("cohort")["revenue"].cumsum().round(2)
    grid["cumulative_revenue_per_customer"] = grid["cumulative_revenue"] / grid["cohort_size"]

    period = grid["cohort"].to_numpy() + grid["period_number"].to_numpy()
    return pd.DataFrame(
        {
            "grain": grain,
            "cohort_period": period_start(grid["cohort"].to_numpy(), grain),
            "period_number": grid["period_number"].to_numpy(),
            "period_start": period_start(period, grain),
            "cohort_size": grid["cohort_size"].to_numpy(dtype=np.int64),
            "active_customers": grid["active_customers"].to_numpy(),
            "retention_rate": grid["retention_rate"].to_numpy(),
            "revenue": grid["revenue"].to_numpy(),
            "revenue_retention": grid["revenue_retention"].to_numpy(),
            "cumulative_revenue": grid["cumulative_revenue"].to_numpy(),
            "cumulative_revenue_per_customer": grid["cumulative_revenue_per_customer"].to_numpy(),
            "is_complete_period": period_end(period, grain) <= as_of.to_datetime64(),
        }
    )


# --------------------------------------------------------------------------- period retention


def period_transitions(activity: pd.DataFrame) -> pd.DataFrame:
    """One row per customer and period P in which the customer is active in P, in P-1, or both.

    Columns: customer_key, period, revenue (in P; NaN when not active in P),
    previous_revenue (in P-1; NaN when not active in P-1), first_period
    (the customer's first period with a completed order).
    """
    previous = activity.assign(period=activity["period"] + 1).rename(columns={"revenue": "previous_revenue"})
    transitions = activity.merge(previous, on=["customer_key", "period"], how="outer")
    first_period = activity.groupby("customer_key")["period"].min()
    transitions["first_period"] = transitions["customer_key"].map(first_period)
    return transitions


def summarise_transitions(transitions: pd.DataFrame) -> pd.DataFrame:
    """Counts and start-base revenues per period P, straight from each customer's P-1 -> P transition."""
    in_previous = transitions["previous_revenue"].notna()
    in_current = transitions["revenue"].notna()
    is_new = in_current & (transitions["first_period"] == transitions["period"])
    revenue_now = transitions["revenue"].fillna(0.0)  # a start customer without orders in P brought 0
    previous_revenue = transitions["previous_revenue"].fillna(0.0)
    flags = pd.DataFrame(
        {
            "period": transitions["period"],
            "start_customers": in_previous,
            "retained_customers": in_previous & in_current,
            "churned_customers": in_previous & ~in_current,
            "new_customers": is_new,
            "reactivated_customers": in_current & ~in_previous & ~is_new,
            "end_customers": in_current,
            "start_base_previous_revenue": previous_revenue.where(in_previous, 0.0),
            "start_base_revenue": revenue_now.where(in_previous, 0.0),
            "start_base_kept_revenue": np.minimum(revenue_now, previous_revenue).where(in_previous, 0.0),
        }
    )
    return flags.groupby("period").sum()


def empty_customer_retention() -> pd.DataFrame:
    """customer_retention with its columns and no rows (no completed order before T)."""
    return pd.DataFrame(
        {
            "grain": pd.Series(dtype=str),
            "period_start": pd.Series(dtype="datetime64[us]"),
            "period_end": pd.Series(dtype="datetime64[us]"),
            **{
                name: pd.Series(dtype=np.int64)
                for name in RETENTION_COUNT_COLUMNS
            },
            **{
                name: pd.Series(dtype=float)
                for name in (
                    "customer_retention_rate",
                    "churn_rate",
                    "start_base_previous_revenue",
                    "start_base_revenue",
                    "net_revenue_retention",
                    "gross_revenue_retention",
                )
            },
            "is_complete_period": pd.Series(dtype=bool),
        }
    )


def build_customer_retention(activity: pd.DataFrame, grain: str, as_of: pd.Timestamp) -> pd.DataFrame:
    """Period retention of one grain for the customers in `activity`.

    One row per period from the one after the first period with a completed
    order through the period containing T, empty periods included.
    """
    if activity.empty:
        return empty_customer_retention()
    periods = np.arange(int(activity["period"].min()) + 1, as_of_ordinal(as_of, grain) + 1, dtype=np.int64)
    # reindex drops P = T+1 (churn after T is not observed yet) and adds periods nobody touched.
    sums = summarise_transitions(period_transitions(activity)).reindex(periods, fill_value=0)

    counts = sums[list(RETENTION_COUNT_COLUMNS)].astype(np.int64)
    start = counts["start_customers"]
    previous_revenue = sums["start_base_previous_revenue"].round(2)
    current_revenue = sums["start_base_revenue"].round(2)
    kept_revenue = sums["start_base_kept_revenue"].round(2)
    has_start = start > 0
    has_previous_revenue = has_start & (previous_revenue != 0)

    result = pd.DataFrame(
        {
            "grain": grain,
            "period_start": period_start(periods, grain),
            "period_end": period_end(periods, grain),
        }
    )
    for column in counts.columns:
        result[column] = counts[column].to_numpy()
    result["customer_retention_rate"] = (counts["retained_customers"] / start).where(has_start).to_numpy()
    result["churn_rate"] = (counts["churned_customers"] / start).where(has_start).to_numpy()
    result["start_base_previous_revenue"] = previous_revenue.to_numpy()
    result["start_base_revenue"] = current_revenue.to_numpy()
    result["net_revenue_retention"] = (current_revenue / previous_revenue).where(has_previous_revenue).to_numpy()
    result["gross_revenue_retention"] = (kept_revenue / previous_revenue).where(has_previous_revenue).to_numpy()
    result["is_complete_period"] = result["period_end"] <= as_of
    return result


# --------------------------------------------------------------------------- CLV summary


def pooled_annual_churn_rate(yearly_activity: pd.DataFrame, as_of: pd.Timestamp) -> float:
    """sum(churned) / sum(start) over the complete yearly periods of these customers; NaN when no start base."""
    yearly = build_customer_retention(yearly_activity, "year", as_of)
    complete = yearly.loc[yearly["is_complete_period"]]
    start = complete["start_customers"].sum()
    return float(complete["churned_customers"].sum() / start) if start > 0 else np.nan


CLV_SUMMARY_COLUMNS = [
    "dimension",
    "dimension_value",
    "customers",
    "orders",
    "revenue",
    "average_order_value",
    "observed_tenure_years",
    "purchase_frequency",
    "annual_churn_rate",
    "expected_lifespan_years",
    "clv",
]


def clv_summary_row(
    dimension: str, value: str, members: pd.DataFrame, yearly_activity: pd.DataFrame, as_of: pd.Timestamp
) -> dict[str, object]:
    """The formula CLV and its factors for one group of customers (rows of customer_lifetime_value)."""
    customers = len(members)
    orders = int(members["orders"].sum())
    revenue = round(float(members["historical_revenue"].sum()), 2)
    average_order_value = revenue / orders
    observed_tenure_years = float((members["tenure_days"] / DAYS_PER_YEAR).mean())
    purchase_frequency = (orders / customers) / observed_tenure_years if observed_tenure_years != 0 else np.nan
    group_activity = yearly_activity.loc[yearly_activity["customer_key"].isin(members["customer_key"])]
    annual_churn_rate = pooled_annual_churn_rate(group_activity, as_of)
    expected_lifespan_years = 1 / annual_churn_rate if annual_churn_rate > 0 else np.nan  # NaN > 0 is False
    return {
        "dimension": dimension,
        "dimension_value": value,
        "customers": customers,
        "orders": orders,
        "revenue": revenue,
        "average_order_value": average_order_value,
        "observed_tenure_years": observed_tenure_years,
        "purchase_frequency": purchase_frequency,
        "annual_churn_rate": annual_churn_rate,
        "expected_lifespan_years": expected_lifespan_years,
        # NaN in any factor gives NaN, i.e. null.
        "clv": average_order_value * purchase_frequency * expected_lifespan_years,
    }


def build_clv_summary(
    clv: pd.DataFrame, customers: pd.DataFrame, yearly_activity: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Formula CLV per acquisition cohort year and per CRM acquisition channel."""
    channel_of = customers.drop_duplicates("customer_id").set_index("customer_id")["acquisition_channel"]
    members = clv.assign(
        acquisition_cohort_year=clv["first_order_date"].dt.year.astype(str),
        # Customers missing from the CRM, or without a channel there, are 'unknown'.
        acquisition_channel=clv["customer_id"].map(channel_of).fillna(UNKNOWN_CHANNEL),
    )
    rows = [
        clv_summary_row(dimension, value, group, yearly_activity, as_of)
        for dimension in ("acquisition_cohort_year", "acquisition_channel")
        for value, group in members.groupby(dimension, sort=True)
    ]
    summary = pd.DataFrame(rows, columns=CLV_SUMMARY_COLUMNS)
    return summary.sort_values(["dimension", "dimension_value"], ignore_index=True)


# --------------------------------------------------------------------------- RFM


def quintile_score(values: pd.Series, ascending: bool) -> pd.Series:
    """1 + floor(5 * (rnk - 1) / n), rnk = RANK() from worst to best (ties share the lowest rank)."""
    rank = values.rank(method="min", ascending=ascending).astype(np.int64)
    return 1 + (5 * (rank - 1)) // len(values)


def build_customer_rfm(clv: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Recency, frequency and monetary scores, the named segment and the tier of each customer."""
    rfm = pd.DataFrame(
        {
            "customer_id": clv["customer_id"],
            "recency_days": (as_of - clv["last_order_date"]).dt.days.astype(np.int64),
            "frequency": clv["orders"].astype(np.int64),
            "monetary": clv["historical_revenue"],
        }
    )
    # Worst first: recency by most days, frequency and monetary by smallest value.
    rfm["r_score"] = quintile_score(rfm["recency_days"], ascending=False)
    rfm["f_score"] = quintile_score(rfm["frequency"], ascending=True)
    rfm["m_score"] = quintile_score(rfm["monetary"], ascending=True)
    rfm["fm_score"] = (rfm["f_score"] + rfm["m_score"] + 1) // 2  # round((f + m) / 2), halves up
    rfm["rfm_segment"] = [
        SEGMENT_GRID[r][fm - 1] for r, fm in zip(rfm["r_score"].to_numpy(), rfm["fm_score"].to_numpy())
    ]
    rfm["customer_tier"] = rfm["rfm_segment"].map(SEGMENT_TIER)
    return rfm.reset_index(drop=True)


# --------------------------------------------------------------------------- NPS and CSAT


def build_survey_scores(responses: pd.DataFrame, rfm: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """NPS and CSAT per month, overall and by the respondent's current customer tier."""
    responses = responses.loc[responses["submitted_at"].dt.normalize() <= as_of]
    score = responses["score"]
    is_nps = (responses["survey_type"] == "nps") & score.between(0, 10)
    is_csat = (responses["survey_type"] == "csat") & score.between(1, 5)  # NaN is never between
    responses = responses.loc[is_nps | is_csat]
    is_nps, is_csat, score = is_nps[responses.index], is_csat[responses.index], score[responses.index]

    tier_of = rfm.set_index("customer_id")["customer_tier"]
    flags = pd.DataFrame(
        {
            "month": period_start(period_ordinal(responses["submitted_at"], "month"), "month"),
            "customer_tier": responses["customer_id"].map(tier_of).fillna(UNSCORED_TIER).to_numpy(),
            "nps_responses": is_nps.to_numpy(),
            "promoters": (is_nps & (score >= 9)).to_numpy(),
            "passives": (is_nps & score.between(7, 8)).to_numpy(),
            "detractors": (is_nps & (score <= 6)).to_numpy(),
            "csat_responses": is_csat.to_numpy(),
            "csat_satisfied": (is_csat & (score >= 4)).to_numpy(),
        }
    )
    overall = flags.drop(columns="customer_tier").groupby("month").sum().reset_index()
    overall.insert(1, "breakdown", "overall")
    overall.insert(2, "customer_tier", None)
    by_tier = flags.groupby(["month", "customer_tier"]).sum().reset_index()
    by_tier.insert(1, "breakdown", "customer_tier")
    scores = pd.concat([overall, by_tier], ignore_index=True)
    scores["customer_tier"] = scores["customer_tier"].astype("str")  # the overall rows' None becomes missing

    count_columns = ["nps_responses", "promoters", "passives", "detractors", "csat_responses", "csat_satisfied"]
    scores[count_columns] = scores[count_columns].astype(np.int64)
    scores["nps"] = (100 * (scores["promoters"] - scores["detractors"]) / scores["nps_responses"]).where(
        scores["nps_responses"] > 0
    )
    scores["csat"] = (100 * scores["csat_satisfied"] / scores["csat_responses"]).where(scores["csat_responses"] > 0)
    month_end = period_end(period_ordinal(scores["month"], "month"), "month")
    scores["is_complete_period"] = month_end <= as_of.to_datetime64()
    columns = [
        "month",
        "breakdown",
        "customer_tier",
        "nps_responses",
        "promoters",
        "passives",
        "detractors",
        "nps",
        "csat_responses",
        "csat_satisfied",
        "csat",
        "is_complete_period",
    ]
    return scores[columns].sort_values(["month", "breakdown", "customer_tier"], ignore_index=True)


# --------------------------------------------------------------------------- all marts


def compute_marts(warehouse_path: Path, as_of_date: date | None = None) -> dict[str, pd.DataFrame]:
    """Compute every mart of METRICS.md from the staging tables of the warehouse, in pandas.

    `as_of_date` is T; None takes the date of the latest completed order.
    Returns the frames keyed by mart name (see MART_NAMES).
    """
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        orders = load_orders(con)
        lines = load_order_lines(con)
        customers = load_customers(con)
        responses = load_survey_responses(con)

    as_of = pd.Timestamp(as_of_date) if as_of_date is not None else default_as_of_date(orders)
    fct_orders = build_fct_orders(orders, lines, as_of)
    del orders, lines  # the largest inputs; free them before the per-customer work

    purchases, customer_ids = completed_purchases(fct_orders)
    clv = build_customer_lifetime_value(purchases, customer_ids, as_of)
    activity = {grain: customer_activity(purchases, grain) for grain in ("week", "month", "quarter", "year")}
    del purchases

    cohort_retention = pd.concat(
        [build_cohort_retention(activity[grain], grain, as_of) for grain in COHORT_GRAINS], ignore_index=True
    )
    customer_retention = pd.concat(
        [build_customer_retention(activity[grain], grain, as_of) for grain in RETENTION_GRAINS],
        ignore_index=True,
    )
    clv_summary = build_clv_summary(clv, customers, activity["year"], as_of)
    customer_rfm = build_customer_rfm(clv, as_of)
    survey_scores = build_survey_scores(responses, customer_rfm, as_of)

    return {
        "fct_orders": fct_orders,
        "customer_lifetime_value": clv.drop(columns="customer_key"),
        "cohort_retention": cohort_retention,
        "customer_retention": customer_retention,
        "clv_summary": clv_summary,
        "customer_rfm": customer_rfm,
        "survey_scores": survey_scores,
    }
