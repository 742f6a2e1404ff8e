"""One more day of data on top of generated demo files: what a daily export brings.

`write_next_day` reads the landing files the generator wrote (through DuckDB,
never row by row) and writes the day after their latest order as new files,
`<entity>/day_<YYYY-MM-DD>.<ext>`, in the formats of the mixed layout:

- new orders (`share` of the existing orders), each a copy of a sampled
  existing order (customer, currency, channel and lines) placed on the new
  day, so that amounts and baskets look like the rest;
- their order lines (copies of the sampled order's lines);
- a new version of a few customers (one per hundred new orders; city and
  updated_at change), as a CRM export of the day's edits would carry;
- survey responses from a tenth as many customers as there are new orders.

Deterministic: the same landing files, share and seed give the same day.
The day's files are not the generator's own: a run that loads them needs a
PII key of its own (the demo key is for the demo's files only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

DAY_PREFIX = "day_"


@dataclass(frozen=True)
class NextDay:
    """What `write_next_day` wrote: the day and the rows per entity."""

    day: date
    rows: dict[str, int]
    files: list[Path]


def _sql_path(path: Path) -> str:
    """A path as a SQL string literal."""
    return "'" + path.as_posix().replace("'", "''") + "'"


def write_next_day(landing_dir: Path, share: float = 0.001, seed: int = 1) -> NextDay:
    """Write one day of new orders, lines, customer versions and surveys after the latest order; see the module."""
    landing_dir = Path(landing_dir)
    orders_glob = _sql_path(landing_dir / "orders" / "*.parquet")
    lines_glob = _sql_path(landing_dir / "order_items" / "*.parquet")
    customers_glob = _sql_path(landing_dir / "customers" / "*.csv")
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET preserve_insertion_order = true")
        (latest, orders) = con.execute(f"SELECT max(ordered_at), count(*) FROM read_parquet({orders_glob})").fetchone()
        day = latest.date() + timedelta(days=1)
        new_orders = max(1, round(orders * share))
        tag = day.strftime("%Y%m%d")
        # Sampled source orders, numbered; hash-ordered so the sample is the same every time for this seed.
        con.execute(f"""
            CREATE TEMP TABLE picked AS
            SELECT row_number() OVER (ORDER BY hash(order_id, {int(seed)})) AS n, *
            FROM read_parquet({orders_glob})
            WHERE status IN ('completed', 'delivered', 'paid', 'shipped')
            QUALIFY n <= {new_orders}""")
        con.execute(f"""
            CREATE TEMP TABLE day_orders AS
            SELECT 'N{tag}-' || lpad(cast(n AS VARCHAR), 7, '0') AS order_id, customer_id,
                   TIMESTAMPTZ '{day.isoformat()} 00:00:00+00' + to_seconds(cast(n * 86399 // {new_orders} AS BIGINT))
                       AS ordered_at,
                   'completed' AS status, currency, order_discount, order_total, sales_channel,
                   order_id AS source_order_id, n
            FROM picked""")
        con.execute(f"""
            CREATE TEMP TABLE day_lines AS
            SELECT day_orders.order_id, lines.line_number, lines.product_id, lines.product_category,
                   lines.quantity, lines.unit_price, lines.line_discount
            FROM day_orders JOIN read_parquet({lines_glob}) AS lines ON lines.order_id = day_orders.source_order_id
            ORDER BY day_orders.n, lines.line_number""")
        con.execute(f"""
            CREATE TEMP TABLE day_customers AS
            SELECT customer_id, name, email, phone, company, industry, country,
                   coalesce(city, '') || ' (moved)' AS city, acquisition_channel, account_owner, created_at,
                   strftime(TIMESTAMPTZ '{day.isoformat()} 12:00:00+00', '%Y-%m-%dT%H:%M:%SZ') AS updated_at
            FROM read_csv({customers_glob}, all_varchar = true, header = true)
            WHERE customer_id IN (SELECT customer_id FROM day_orders WHERE n <= greatest(1, {new_orders} // 100))
            QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY updated_at DESC) = 1
            ORDER BY customer_id""")
        con.execute(f"""
            CREATE TEMP TABLE day_surveys AS
            SELECT 'N{tag}-R' || lpad(cast(n AS VARCHAR), 7, '0') AS response_id, customer_id,
                   CASE WHEN n % 2 = 0 THEN 'nps' ELSE 'csat' END AS survey_type,
                   CASE WHEN n % 2 = 0 THEN n % 11 ELSE 1 + n % 5 END AS score,
                   strftime(ordered_at + INTERVAL 1 HOUR, '%Y-%m-%dT%H:%M:%SZ') AS submitted_at,
                   NULL AS comment
            FROM day_orders WHERE n <= greatest(1, {new_orders} // 10)""")
        outputs = {
            "orders": ("parquet", "SELECT * EXCLUDE (source_order_id, n) FROM day_orders ORDER BY n"),
            "order_items": ("parquet", "SELECT * FROM day_lines"),
            "customers": ("csv", "SELECT * FROM day_customers"),
            "survey_responses": ("csv", "SELECT * FROM day_surveys ORDER BY response_id"),
        }
        rows, files = {}, []
        for entity, (file_format, query) in outputs.items():
            target = landing_dir / entity / f"{DAY_PREFIX}{day.isoformat()}.{file_format}"
            partial = target.with_name(f".{target.name}.partial")  # the loader ignores hidden files
            options = "FORMAT parquet" if file_format == "parquet" else "FORMAT csv, HEADER true"
            con.execute(f"COPY ({query}) TO {_sql_path(partial)} ({options})")
            partial.replace(target)
            rows[entity] = con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
            files.append(target)
    return NextDay(day, rows, files)
