"""The short summary printed after a run: rows per layer, customers, orders, revenue, mart headlines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

LAYERS = ("raw", "quarantine", "staging", "intermediate", "marts")


@dataclass(frozen=True)
class WarehouseSummary:
    """Headline figures of the warehouse."""

    warehouse_path: Path
    rows_by_table: dict[str, int]
    customers: int | None
    orders: int | None
    completed_orders: int | None  # None: the marts were not built
    completed_revenue: float | None
    currency: str | None
    # Guest orders (no customer id): completed ones and their revenue, in the totals above.
    guest_orders: int | None = None
    guest_revenue: float | None = None
    currency_chosen_by: str | None = None  # "set", or "the one currency of all orders"
    headlines: MartHeadlines | None = None
    # entity -> (received, accounted for, balances) of the latest run's reconciliation
    reconciliation: dict[str, tuple[int, int, bool]] | None = None
    # (holdout weeks, customers, MAE, predicted, actual repeat purchases) of the predictive models' holdout check
    holdout: tuple[int, int, float, float, float] | None = None


@dataclass(frozen=True)
class MartHeadlines:
    """The figures an analyst looks at first, read from the marts."""

    as_of_date: date | None
    latest_complete_month: date | None
    latest_month_crr: float | None
    oldest_cohort: date | None
    oldest_cohort_12_month_retention: float | None
    nps_month: date | None
    nps: float | None
    customers_by_tier: dict[str, int]


def table_row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Return {schema.table: rows} for every table of the warehouse layers and every mart view (not internal ones)."""
    placeholders = ", ".join("?" for _ in LAYERS)
    tables = con.execute(
        f"""
        SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ({placeholders})
        UNION ALL
        -- Mart views are what BI tools read; intermediate views would cost a full computation to count.
        SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'marts'
        """,
        list(LAYERS),
    ).fetchall()
    tables = sorted((schema, table) for schema, table in tables if not table.startswith("_"))
    if not tables:
        return {}
    union = " UNION ALL ".join(
        f"SELECT '{schema}.{table}' AS t, count(*) AS n FROM \"{schema}\".\"{table}\"" for schema, table in tables
    )
    return {name: int(rows) for name, rows in con.execute(union).fetchall()}


def warehouse_summary(con: duckdb.DuckDBPyConnection, warehouse_path: Path) -> WarehouseSummary:
    """Compute the summary from a (read-only) connection to the warehouse."""
    counts = table_row_counts(con)
    customers = counts.get("staging.stg_crm__customers")
    orders = counts.get("staging.stg_orders__orders")
    completed = revenue = currency = guests = guest_revenue = chosen_by = None
    if "marts.fct_orders" in counts:
        # The order fact already holds each order's net revenue (METRICS.md): read it, don't recompute it.
        completed, revenue, currency, guests, guest_revenue = con.execute(
            "SELECT count(*), sum(net_revenue), string_agg(DISTINCT currency, ', '), count(*) FILTER (is_guest), "
            "sum(net_revenue) FILTER (is_guest) FROM marts.fct_orders WHERE is_completed"
        ).fetchone()
        if table_exists(con, "intermediate", "int_reporting_currency"):
            (chosen_by,) = con.execute("SELECT any_value(chosen_by) FROM intermediate.int_reporting_currency"
                                       ).fetchone()
    return WarehouseSummary(
        headlines=mart_headlines(con) if "marts.customer_rfm" in counts else None,
        reconciliation=latest_reconciliation(con),
        holdout=holdout_accuracy(con) if "marts.predictive_holdout_accuracy" in counts else None,
        warehouse_path=warehouse_path,
        rows_by_table=counts,
        customers=customers,
        orders=orders,
        completed_orders=completed,
        completed_revenue=float(revenue) if revenue is not None else None,
        currency=currency,
        guest_orders=guests,
        guest_revenue=float(guest_revenue) if guest_revenue is not None else None,
        currency_chosen_by=chosen_by,
    )


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    """Whether the table schema.name exists in the connection's database."""
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                       [schema, name]).fetchone()[0] > 0


def latest_reconciliation(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int, bool]] | None:
    """{entity: (received, accounted for, balances)} of the latest reconciled run, or None before any."""
    if not table_exists(con, "quality", "reconciliation"):
        return None
    rows = con.execute("""
        SELECT entity, received, staged + quarantined + exact_duplicates + superseded + earlier_file_versions, balances
        FROM quality.reconciliation
        WHERE run_id = (SELECT arg_max(run_id, checked_at) FROM quality.reconciliation)
        ORDER BY entity
    """).fetchall()
    return {entity: (received, accounted, balances) for entity, received, accounted, balances in rows}


def holdout_accuracy(con: duckdb.DuckDBPyConnection) -> tuple[int, int, float, float, float] | None:
    """The predictive models' holdout check: weeks, customers, MAE, predicted and actual repeat purchases."""
    return con.execute(
        "SELECT holdout_weeks, customers, mean_absolute_error, predicted_repeat_purchases, actual_repeat_purchases "
        "FROM marts.predictive_holdout_accuracy"
    ).fetchone()


def mart_headlines(con: duckdb.DuckDBPyConnection) -> MartHeadlines:
    """Read the headline figures from the marts (small aggregate queries)."""
    (as_of,) = con.execute("SELECT max(as_of_date) FROM marts.customer_lifetime_value").fetchone()
    month, crr = con.execute(
        "SELECT period_start, customer_retention_rate FROM marts.customer_retention "
        "WHERE grain = 'month' AND is_complete_period ORDER BY period_start DESC LIMIT 1"
    ).fetchone() or (None, None)
    cohort, retention = con.execute(
        "SELECT cohort_period, max(CASE WHEN period_number = 12 THEN retention_rate END) "
        "FROM marts.cohort_retention WHERE grain = 'month' "
        "GROUP BY cohort_period ORDER BY cohort_period LIMIT 1"
    ).fetchone() or (None, None)
    nps_month, nps = con.execute(
        "SELECT month, nps FROM marts.survey_scores "
        "WHERE breakdown = 'overall' AND is_complete_period AND nps IS NOT NULL ORDER BY month DESC LIMIT 1"
    ).fetchone() or (None, None)
    tiers = dict(con.execute(
        "SELECT customer_tier || ' ' || customer_tier_zh, count(*) FROM marts.customer_rfm "
        "GROUP BY ALL ORDER BY count(*) DESC"
    ).fetchall())
    return MartHeadlines(as_of, month, crr, cohort, retention, nps_month, nps, tiers)


def format_headlines(headlines: MartHeadlines) -> list[str]:
    """Return the mart headline lines of the summary."""

    def percent(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.1f} %"

    lines = [f"as-of date T     {headlines.as_of_date}"]
    if headlines.latest_complete_month:
        lines.append(f"customer retention rate {headlines.latest_complete_month:%Y-%m}: "
                     f"{percent(headlines.latest_month_crr)}")
    if headlines.oldest_cohort:
        lines.append(f"12-month retention of the {headlines.oldest_cohort:%Y-%m} cohort: "
                     f"{percent(headlines.oldest_cohort_12_month_retention)}")
    if headlines.nps_month:
        lines.append(f"NPS {headlines.nps_month:%Y-%m}: {headlines.nps:+.1f}")
    if headlines.customers_by_tier:
        lines.append("customers per tier: " + ", ".join(f"{t} {n:,}" for t, n in headlines.customers_by_tier.items()))
    return lines


def format_summary(summary: WarehouseSummary) -> str:
    """Return the summary as a few lines of text for the terminal."""
    lines = ["", "Warehouse summary", "================="]
    for layer in LAYERS:
        tables = {k: v for k, v in summary.rows_by_table.items() if k.startswith(layer + ".")}
        if tables:
            lines.append(f"{layer:<12} {sum(tables.values()):>12,} rows in {len(tables)} relations")
            lines += [f"    {name:<44} {rows:>12,}" for name, rows in tables.items()]
    if summary.customers is not None:
        lines.append(f"customers        {summary.customers:>12,}")
    if summary.orders is not None:
        completed = ("completed: not known, the marts were not built" if summary.completed_orders is None
                     else f"{summary.completed_orders:,} completed")
        lines.append(f"orders           {summary.orders:>12,}  ({completed})")
    if summary.completed_revenue is not None:
        chosen = {"set": "set by RETENTION_REPORTING_CURRENCY / --currency",
                  None: ""}.get(summary.currency_chosen_by, summary.currency_chosen_by)
        lines.append(f"net revenue      {summary.completed_revenue:>15,.2f} {summary.currency or ''}  (completed orders"
                     + (f"; currency: {chosen}" if chosen else "") + ")")
    if summary.guest_orders:
        share = summary.guest_orders / summary.completed_orders if summary.completed_orders else 0.0
        revenue_share = ((summary.guest_revenue or 0.0) / summary.completed_revenue
                         if summary.completed_revenue else 0.0)
        guest_revenue = f"{summary.guest_revenue or 0:,.2f} {summary.currency or ''}"
        lines.append(f"guest orders     {summary.guest_orders:>12,}  ({share:.1%} of completed orders, "
                     f"{guest_revenue} = {revenue_share:.1%} of net revenue; in the totals, in no customer mart)")
    if summary.reconciliation:
        balanced = [entity for entity, (_, _, ok) in summary.reconciliation.items() if ok]
        unbalanced = sorted(set(summary.reconciliation) - set(balanced))
        lines.append(f"reconciliation   {len(balanced)} of {len(summary.reconciliation)} entities balance "
                     "(received = staged + quarantined + duplicates + replaced versions)"
                     + (f"; NOT: {', '.join(unbalanced)}" if unbalanced else ""))
    if summary.headlines is not None:
        lines += format_headlines(summary.headlines)
    if summary.holdout is not None:
        weeks, customers, mae, predicted, actual = summary.holdout
        lines.append(f"BG/NBD holdout   {weeks} weeks, {customers:,} customers: predicted {predicted:,.0f} repeat "
                     f"purchases, actual {actual:,.0f}; MAE {mae:.2f} per customer")
    elif "marts.predictive_holdout_accuracy" in summary.rows_by_table:
        lines.append("BG/NBD holdout   not fitted (too few customers with repeat purchases)")
    lines.append(f"warehouse file   {summary.warehouse_path}")
    return "\n".join(lines)
