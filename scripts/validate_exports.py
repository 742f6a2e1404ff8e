#!/usr/bin/env python
"""Load a real public export through its mapping and compare the marts with an independent pandas computation.

Usage (needs the dev extras: scripts/bootstrap):

    .venv/bin/python scripts/validate_exports.py online_retail "path/to/Online Retail.csv"
    .venv/bin/python scripts/validate_exports.py cdnow path/to/CDNOW_sample.txt
    .venv/bin/python scripts/validate_exports.py olist path/to/olist_folder

Each dataset's mapping is scripts/exports/<name>.yml, exactly what a user
would write in their sources file; the files are copied, unedited, into a
fresh landing directory, `retention run` loads them, and the script then
recomputes orders, revenue, customers and monthly cohorts from the export
with pandas alone (its own reading of the dataset's rules, written below)
and compares them with the published marts, to the cent. Exit 1 on any
difference.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
CENT = Decimal("0.01")
KEY = "validate-exports-key-not-for-real-data"


def cents(value) -> Decimal:
    """A money amount rounded to the cent, half away from zero (as DECIMAL casts do)."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def online_retail(path: Path) -> pd.DataFrame:
    """Invoices of the UCI Online Retail export: one row per invoice (order)."""
    lines = pd.read_csv(path, dtype=str, keep_default_na=False)
    lines["amount"] = [cents(abs(Decimal(q)) * Decimal(p)) for q, p in zip(lines.Quantity, lines.UnitPrice)]
    lines["bad_line"] = lines.UnitPrice.map(lambda p: Decimal(p) < 0)
    lines["InvoiceDate"] = pd.to_datetime(lines.InvoiceDate, format="mixed")  # the earliest instant, not text
    invoices = lines.groupby("InvoiceNo").agg(
        customer_id=("CustomerID", "first"), placed=("InvoiceDate", "min"), revenue=("amount", "sum"),
        usable_lines=("bad_line", lambda b: int((~b).sum())))
    invoices = invoices[invoices.usable_lines > 0]  # an invoice of negative prices only has no known revenue
    invoices["revenue"] = [sum((a for a, bad in zip(g.amount, g.bad_line) if not bad), Decimal(0))
                           for _, g in lines[lines.InvoiceNo.isin(invoices.index)].groupby("InvoiceNo")]
    placed = pd.to_datetime(invoices.placed).dt.tz_localize("Europe/London").dt.tz_convert("UTC")
    return pd.DataFrame({"order_id": invoices.index, "customer_id": invoices.customer_id.replace("", None).values,
                         "order_date": placed.dt.tz_localize(None).dt.normalize().values,
                         "completed": ~invoices.index.str.startswith("C"), "revenue": invoices.revenue.values})


def cdnow(path: Path) -> pd.DataFrame:
    """The CDNOW purchase log: every line a purchase (customer, yyyymmdd, CDs, dollars)."""
    log = pd.read_csv(path, sep=r"\s+", header=None, dtype=str)
    if log.shape[1] == 5:  # the sample: customer, sample id, date, CDs, dollars
        log = log[[0, 2, 3, 4]]
    log.columns = ["customer", "date", "cds", "dollars"]
    return pd.DataFrame({"order_id": log.customer + "-" + (log.index + 1).astype(str), "customer_id": log.customer,
                         "order_date": pd.to_datetime(log.date, format="%Y%m%d"), "completed": True,
                         "revenue": [cents(d) for d in log.dollars]})


def olist(folder: Path) -> pd.DataFrame:
    """Olist orders: the person is customer_unique_id (via the customers file); revenue = item prices."""
    def read(name: str) -> pd.DataFrame:
        found = sorted(folder.glob(f"olist_{name}_dataset.*"))
        return pd.read_parquet(found[0]) if found[0].suffix == ".parquet" else pd.read_csv(found[0], dtype=str)
    orders, customers, items = read("orders"), read("customers"), read("order_items")
    people = dict(zip(customers.customer_id, customers.customer_unique_id))
    revenue = items.groupby("order_id").price.apply(lambda p: sum((cents(v) for v in p), Decimal(0)))
    completed = orders.order_status.isin(["delivered", "shipped", "invoiced", "approved"])
    known = orders.order_id.isin(revenue.index) | ~completed  # completed without items: no known revenue
    orders, completed = orders[known], completed[known]
    placed = pd.to_datetime(orders.order_purchase_timestamp).dt.tz_localize("America/Sao_Paulo").dt.tz_convert("UTC")
    return pd.DataFrame({"order_id": orders.order_id.values, "customer_id": orders.customer_id.map(people).values,
                         "order_date": placed.dt.tz_localize(None).dt.normalize().values,
                         "completed": completed.values,
                         "revenue": orders.order_id.map(revenue).fillna(Decimal(0)).values})


DATASETS = {"online_retail": online_retail, "cdnow": cdnow, "olist": olist}


def run_pipeline(name: str, export: Path, workdir: Path) -> Path:
    """Copy the export unedited into a fresh landing dir, run `retention run` with its mapping; the serving file."""
    landing = workdir / "landing" / name
    landing.mkdir(parents=True)
    for source in ([export] if export.is_file() else sorted(p for p in export.iterdir() if p.is_file())):
        shutil.copy(source, landing / source.name)
    env = {**os.environ, "RETENTION_DATA_DIR": str(workdir / "data"), "RETENTION_LANDING_DIR": str(workdir / "landing"),
           "RETENTION_SOURCES_FILE": str(ROOT / "scripts" / "exports" / f"{name}.yml"), "RETENTION_PII_KEY": KEY}
    subprocess.run([str(Path(sys.executable).parent / "retention"), "run", "--quiet"], env=env, check=True)
    return workdir / "data" / "serving" / "serving.duckdb"


def compare(orders: pd.DataFrame, serving: Path) -> list[str]:
    """Differences between the independent computation and the marts (empty: they agree)."""
    con = duckdb.connect(str(serving), read_only=True)
    problems = []
    done = orders[orders.completed]
    expected = {
        "completed orders": len(done),
        "net revenue": sum(done.revenue, Decimal(0)),
        "guest revenue": sum(done[done.customer_id.isna()].revenue, Decimal(0)),
    }
    actual = dict(zip(expected, con.execute(
        "SELECT count(*), sum(net_revenue), coalesce(sum(net_revenue) FILTER (is_guest), 0) "
        "FROM marts.fct_orders WHERE is_completed").fetchone()))
    for figure, value in expected.items():
        same = Decimal(str(actual[figure])) == value if isinstance(value, Decimal) else actual[figure] == value
        print(f"  {figure:<18} pandas {value:>16,}   marts {actual[figure]:>16,}   {'equal' if same else 'DIFFERENT'}")
        if not same:
            problems.append(figure)
    people = done[done.customer_id.notna()].groupby("customer_id").agg(
        orders=("order_id", "count"), revenue=("revenue", lambda r: sum(r, Decimal(0))),
        first=("order_date", "min"), last=("order_date", "max"))
    marts = con.execute("SELECT customer_id, orders AS mart_orders, historical_revenue, first_order_date, "
                        "last_order_date FROM marts.customer_lifetime_value").df().set_index("customer_id")
    joined = people.join(marts, how="outer")
    mismatched = [customer for customer, row in joined.iterrows()
                  if pd.isna(row.orders) or pd.isna(row.mart_orders) or row.orders != row.mart_orders
                  or Decimal(str(row.historical_revenue)) != row.revenue
                  or pd.Timestamp(row.first_order_date) != row["first"]
                  or pd.Timestamp(row.last_order_date) != row["last"]]
    print(f"  customers          pandas {len(people):>16,}   marts {len(marts):>16,}   "
          f"{len(mismatched):,} differ in orders, revenue or first/last order")
    if mismatched or len(people) != len(marts):
        problems.append("customers")
    cohorts = people.assign(cohort=people["first"].dt.to_period("M")).groupby("cohort").size()
    mart_cohorts = con.execute("SELECT cohort_period, cohort_size FROM marts.cohort_retention "
                               "WHERE grain = 'month' AND period_number = 0").df()
    mart_cohorts = pd.Series(mart_cohorts.cohort_size.values,
                             index=pd.to_datetime(mart_cohorts.cohort_period).dt.to_period("M")).sort_index()
    same = cohorts.sort_index().astype(int).equals(mart_cohorts.astype(int))
    print(f"  monthly cohorts    pandas {len(cohorts):>16,}   marts {len(mart_cohorts):>16,}   "
          f"{'sizes equal' if same else 'sizes DIFFERENT'}")
    if not same:
        problems.append("cohorts")
    return problems


def main() -> None:
    """Run one dataset end to end and compare; exit 1 on a difference."""
    if len(sys.argv) != 3 or sys.argv[1] not in DATASETS:
        raise SystemExit(__doc__)
    name, export = sys.argv[1], Path(sys.argv[2])
    orders = DATASETS[name](export)
    with tempfile.TemporaryDirectory(prefix=f"validate-{name}-") as workdir:
        serving = run_pipeline(name, export, Path(workdir))
        print(f"\n{name}: marts of the mapped export against pandas on the export itself")
        problems = compare(orders, serving)
    print("\nall equal" if not problems else f"\nDIFFERENT: {', '.join(problems)}")
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
