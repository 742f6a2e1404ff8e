"""The mart fixture: twelve customers whose every mart figure was computed by hand.

Dates below are in the reporting time zone of the fixture, Asia/Shanghai
(UTC+8); orders are placed at 04:00 UTC (12:00 in Shanghai) except O05.
Monthly completed activity (customer: net revenue):

| month   | active customers                    | notes                                   |
|---------|-------------------------------------|-----------------------------------------|
| 2024-08 | C12 200                             | first period with data                  |
| 2024-09 | -                                   | nobody: October starts with S = 0       |
| 2024-10 | C09 300, C10 300, C02 200           | cohort of 3; none of them active in Nov |
| 2024-11 | C03 80, C01 100, C04 150            | O05 (C03) is 2024-10-31 23:30 UTC = Nov 1 in Shanghai; C04 also has a cancelled (void) and a refunded (returned) order |
| 2024-12 | C01 100, C02 50, C05 60             | C02 reactivated; C05 buys on Mon Dec 30 |
| 2025-01 | C05 60, C03 80, C01 100, C07 100    | C05 on Jan 2: same ISO week as Dec 30; C07's order has discounts |
| 2025-02 | C12 500                             | C08's only order is pending             |
| 2025-03 | C12 500, C01 100, C11 40            | C11 on Mar 15 = T, the latest completed order |

C06 and C08 have no completed order. Completed revenue 3,020.00 in 18 orders.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from ingestion.contract import ENTITIES
from ingestion.landing.loader import load_landing_entity
from ingestion.pii import DBT_SECRET_VARIABLE
from orchestration.assets.dbt import dbt_build_args
from orchestration.assets.predictive import write_empty_tables
from orchestration.settings import DBT_PROJECT_DIR
from quality.quarantine import rebuild_quarantine
from tests.fixtures import TEST_PII_KEY

REPORTING_TIME_ZONE = "Asia/Shanghai"

_CHANNELS = {
    "C01": "referral", "C02": "referral", "C03": "referral", "C04": "referral",
    "C05": "paid_search", "C07": "paid_search", "C09": "paid_search", "C10": "paid_search",
    "C06": "organic", "C08": "organic", "C11": "organic", "C12": "organic",
}

CUSTOMERS_CSV = "customer_id,name,email,phone,company,industry,country,city,acquisition_channel,account_owner," \
                "created_at,updated_at\n" + "".join(
    f"{c},Customer {c},{c.lower()}@example.com,+86 138 0000 00{c[1:]},Co {c},Retail,China,上海,{channel},王芳,"
    "2024-01-01T00:00:00Z,2024-01-01T00:00:00Z\n"
    for c, channel in sorted(_CHANNELS.items())
)

# (order, customer, ordered_at UTC, status, order discount, [(quantity, unit price, line discount), ...])
ORDERS: list[tuple[str, str, str, str, str, list[tuple[int, str, str]]]] = [
    ("O01", "C12", "2024-08-10T04:00:00Z", "completed", "0.00", [(1, "200.00", "0.00")]),
    ("O02", "C09", "2024-10-10T04:00:00Z", "completed", "0.00", [(1, "300.00", "0.00")]),
    ("O03", "C10", "2024-10-15T04:00:00Z", "delivered", "0.00", [(1, "300.00", "0.00")]),
    ("O04", "C02", "2024-10-20T04:00:00Z", "completed", "0.00", [(2, "100.00", "0.00")]),
    ("O05", "C03", "2024-10-31T23:30:00Z", "completed", "0.00", [(1, "80.00", "0.00")]),
    ("O06", "C01", "2024-11-10T04:00:00Z", "completed", "0.00", [(1, "100.00", "0.00")]),
    ("O07", "C04", "2024-11-05T04:00:00Z", "shipped", "0.00", [(1, "150.00", "0.00")]),
    ("O08", "C04", "2024-11-20T04:00:00Z", "void", "0.00", [(1, "999.00", "0.00")]),
    ("O09", "C04", "2024-12-01T04:00:00Z", "returned", "0.00", [(1, "500.00", "0.00")]),
    ("O10", "C01", "2024-12-10T04:00:00Z", "completed", "0.00", [(1, "100.00", "0.00")]),
    ("O11", "C02", "2024-12-15T04:00:00Z", "paid", "0.00", [(1, "50.00", "0.00")]),
    ("O12", "C05", "2024-12-30T04:00:00Z", "completed", "0.00", [(1, "60.00", "0.00")]),
    ("O13", "C05", "2025-01-02T04:00:00Z", "completed", "0.00", [(1, "60.00", "0.00")]),
    ("O14", "C03", "2025-01-05T04:00:00Z", "completed", "0.00", [(1, "80.00", "0.00")]),
    ("O15", "C01", "2025-01-10T04:00:00Z", "completed", "0.00", [(1, "100.00", "0.00")]),
    # 2 x 50 - 10 + 1 x 30 - 20 (order discount) = 100.00
    ("O16", "C07", "2025-01-15T04:00:00Z", "completed", "20.00", [(2, "50.00", "10.00"), (1, "30.00", "0.00")]),
    ("O17", "C08", "2025-02-01T04:00:00Z", "processing", "0.00", [(1, "70.00", "0.00")]),
    ("O18", "C12", "2025-02-20T04:00:00Z", "completed", "0.00", [(1, "500.00", "0.00")]),
    ("O19", "C12", "2025-03-01T04:00:00Z", "completed", "0.00", [(1, "500.00", "0.00")]),
    ("O20", "C01", "2025-03-10T04:00:00Z", "completed", "0.00", [(1, "100.00", "0.00")]),
    ("O21", "C11", "2025-03-15T04:00:00Z", "completed", "0.00", [(1, "40.00", "0.00")]),
]

SURVEY_RESPONSES_CSV = """\
response_id,customer_id,survey_type,score,submitted_at,comment
R01,C01,nps,10,2025-01-20T04:00:00Z,
R02,C02,nps,8,2025-01-25T04:00:00Z,
R03,C09,nps,3,2025-01-28T04:00:00Z,
R04,C03,csat,5,2025-01-10T04:00:00Z,
R05,C05,csat,3,2025-01-11T04:00:00Z,
R06,C10,nps,9,2025-01-31T20:00:00Z,Feb 1 in Shanghai
R07,C01,nps,6,2025-03-05T04:00:00Z,latest for C01
R08,C12,nps,9,2025-03-02T04:00:00Z,
R09,C06,nps,7,2025-03-03T04:00:00Z,no orders
R10,C11,nps,10,2025-03-08T04:00:00Z,
R11,C04,csat,4,2025-03-04T04:00:00Z,
R12,C07,nps,11,2025-03-06T04:00:00Z,out of scale
R13,C11,csat,0,2025-03-07T04:00:00Z,out of scale
R14,C10,nps,10,2025-03-20T04:00:00Z,after T
"""

INTERACTIONS_CSV = "interaction_id,customer_id,occurred_at,interaction_type,status,subject\n" \
                   "I01,C02,2024-12-20T04:00:00Z,complaint,open,Late delivery\n"


def orders_csv() -> str:
    """The orders file (order_total = lines net of discounts, minus the order discount)."""
    rows = ["order_id,customer_id,ordered_at,status,currency,order_discount,order_total,sales_channel"]
    for order, customer, at, status, discount, lines in ORDERS:
        total = sum(q * float(p) - float(d) for q, p, d in lines) - float(discount)
        rows.append(f"{order},{customer},{at},{status},CNY,{discount},{total:.2f},app")
    return "\n".join(rows) + "\n"


def order_items_csv() -> str:
    """The order lines file."""
    rows = ["order_id,line_number,product_id,product_category,quantity,unit_price,line_discount"]
    for order, _, _, _, _, lines in ORDERS:
        rows += [f"{order},{n},P{n:04d},books,{q},{p},{d}" for n, (q, p, d) in enumerate(lines, start=1)]
    return "\n".join(rows) + "\n"


def write_mart_landing(landing: Path) -> Path:
    """Write the fixture's landing files (all CSV) under `landing`; return it."""
    files = {
        "customers": CUSTOMERS_CSV, "interactions": INTERACTIONS_CSV, "orders": orders_csv(),
        "order_items": order_items_csv(), "survey_responses": SURVEY_RESPONSES_CSV,
    }
    for entity, text in files.items():
        (landing / entity).mkdir(parents=True, exist_ok=True)
        (landing / entity / f"{entity}.csv").write_text(text, encoding="utf-8")
    return landing


def load_raw(warehouse: Path, landing: Path) -> None:
    """Load every landing file into raw and set the rows breaking raw rules aside, as the raw and quarantine assets do.

    No bad-share limit: tests load deliberately damaged data and count what the rules find.
    """
    with duckdb.connect(str(warehouse)) as con:
        for entity in ENTITIES.values():  # parents come first in ENTITIES
            load_landing_entity(con, landing, entity)
        for entity in ENTITIES.values():
            rebuild_quarantine(con, entity)
        # dbt alone does not run the Python models: their tables exist, empty (as with too few buyers).
        write_empty_tables(con)


def dbt(command: list[str], warehouse: Path, target: Path) -> subprocess.CompletedProcess:
    """Run a dbt command on the project against `warehouse`, writing artefacts into `target`."""
    executable = Path(sys.executable).parent / "dbt"
    return subprocess.run(
        [str(executable), *command, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(target), "--log-path", str(target / "logs")],
        env={**os.environ, "RETENTION_WAREHOUSE": str(warehouse), DBT_SECRET_VARIABLE: TEST_PII_KEY},
        capture_output=True, text=True, check=False,
    )


def build_marts(directory: Path, **extra_vars: str) -> Path:
    """Load the fixture and build every dbt model and test in `directory`; return the warehouse path."""
    warehouse = directory / "warehouse.duckdb"
    load_raw(warehouse, write_mart_landing(directory / "landing"))
    result = dbt(dbt_build_args({"reporting_time_zone": REPORTING_TIME_ZONE, **extra_vars}), warehouse,
                 directory / "target")
    assert result.returncode == 0, result.stdout[-4000:]
    return warehouse


# The complaint window is widened to 90 days so that C02's complaint of Dec 20 counts (tests/test_churn_risk.py).
CHURN_VARS = {"churn_complaint_window_days": "90"}


def build_marts_with_predictions(directory: Path) -> Path:
    """The fixture's marts with hand-made predictions (C03 P(alive) 0.2, C05 0.1 and 123.45, C12 0.9 and 900.00),
    churn_risk and dim_customers rebuilt on them; return the warehouse path."""
    warehouse = build_marts(directory, **CHURN_VARS)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("""
            INSERT INTO marts.customer_predictions (customer_id, p_alive, expected_purchases, predicted_clv)
            VALUES ('C03', 0.2, 0.5, 40.0), ('C05', 0.1, 0.3, 123.45), ('C12', 0.9, 3.0, 900.0)
        """)
    result = dbt(dbt_build_args({"reporting_time_zone": REPORTING_TIME_ZONE, **CHURN_VARS}, "churn_risk dim_customers"),
                 warehouse, directory / "target")
    assert result.returncode == 0, result.stdout[-4000:]
    return warehouse
