"""The short summary printed after a run: rows per layer, customers, orders, revenue."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

LAYERS = ("raw", "staging", "intermediate", "marts")


@dataclass(frozen=True)
class WarehouseSummary:
    """Headline figures of the warehouse."""

    warehouse_path: Path
    rows_by_table: dict[str, int]
    customers: int | None
    orders: int | None
    completed_orders: int | None
    completed_revenue: float | None
    currency: str | None


def table_row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Return {schema.table: rows} for every table of the warehouse layers (not internal tables)."""
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        f"WHERE schema_name IN ({', '.join('?' for _ in LAYERS)}) AND NOT starts_with(table_name, '_') "
        "ORDER BY schema_name, table_name",
        list(LAYERS),
    ).fetchall()
    if not tables:
        return {}
    union = " UNION ALL ".join(
        f"SELECT '{schema}.{table}' AS t, count(*) AS n FROM \"{schema}\".\"{table}\"" for schema, table in tables
    )
    return {name: int(rows) for name, rows in con.execute(union).fetchall()}


def has_table(rows_by_table: dict[str, int], name: str) -> bool:
    """Tell whether the warehouse has the table `schema.table`."""
    return name in rows_by_table


def warehouse_summary(con: duckdb.DuckDBPyConnection, warehouse_path: Path) -> WarehouseSummary:
    """Compute the summary from a (read-only) connection to the warehouse."""
    counts = table_row_counts(con)
    customers = counts.get("staging.stg_crm__customers")
    orders = counts.get("staging.stg_orders__orders")
    completed = revenue = currency = None
    if has_table(counts, "staging.stg_orders__orders") and has_table(counts, "staging.stg_orders__order_items"):
        # Net revenue of completed orders as METRICS.md defines it: lines net of
        # line discounts, minus the order discount; the order total where there are no lines.
        completed, revenue, currency = con.execute(
            """
            WITH lines AS (
                SELECT order_id, sum(line_net_amount) AS lines_net
                FROM staging.stg_orders__order_items GROUP BY order_id
            )
            SELECT count(*),
                   sum(coalesce(lines.lines_net - o.order_discount, o.order_total)),
                   string_agg(DISTINCT o.currency, ', ')
            FROM staging.stg_orders__orders AS o
            LEFT JOIN lines USING (order_id)
            WHERE o.order_status = 'completed'
            """
        ).fetchone()
    return WarehouseSummary(
        warehouse_path=warehouse_path,
        rows_by_table=counts,
        customers=customers,
        orders=orders,
        completed_orders=completed,
        completed_revenue=float(revenue) if revenue is not None else None,
        currency=currency,
    )


def format_summary(summary: WarehouseSummary) -> str:
    """Return the summary as a few lines of text for the terminal."""
    lines = ["", "Warehouse summary", "================="]
    for layer in LAYERS:
        tables = {k: v for k, v in summary.rows_by_table.items() if k.startswith(layer + ".")}
        if tables:
            lines.append(f"{layer:<9} {sum(tables.values()):>12,} rows in {len(tables)} tables")
            lines += [f"    {name:<44} {rows:>12,}" for name, rows in tables.items()]
    if summary.customers is not None:
        lines.append(f"customers        {summary.customers:>12,}")
    if summary.orders is not None:
        lines.append(f"orders           {summary.orders:>12,}  ({summary.completed_orders or 0:,} completed)")
    if summary.completed_revenue is not None:
        lines.append(f"net revenue      {summary.completed_revenue:>15,.2f} {summary.currency or ''}  (completed orders)")
    lines.append(f"warehouse file   {summary.warehouse_path}")
    return "\n".join(lines)
