"""A tiny landing directory whose every figure is known by hand.

| entity           | files                                         | raw rows | staging rows |
|------------------|-----------------------------------------------|----------|--------------|
| customers        | customers.csv (UTF-8), customers_cn.csv (GB18030) | 5 + 2 | 6 (C1 twice) |
| interactions     | interactions.jsonl                            | 3        | 3            |
| orders           | orders.parquet                                | 6        | 6            |
| order_items      | order_items.csv (one exact duplicate line)    | 9        | 8            |
| survey_responses | survey_responses.csv                          | 3        | 3            |

Completed orders: O1 (paid), O2 (shipped), O5 (delivered). Net revenue:
O1 = 2 x 10.00 + 1 x 5.50 - 0.50 - 5.00 (order discount) = 20.00
O2 = 3 x 7.00 = 21.00
O5 = 1 x 100.00 - 10.00 + 2 x 3.25 - 1.50 (order discount) = 95.00
Total 136.00 CNY.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

RAW_ROWS = {"customers": 7, "interactions": 3, "orders": 6, "order_items": 9, "survey_responses": 3}
STAGING_ROWS = {
    "stg_crm__customers": 6,
    "stg_crm__interactions": 3,
    "stg_orders__orders": 6,
    "stg_orders__order_items": 8,
    "stg_surveys__survey_responses": 3,
}
# The PII key of every test run: the tiny landing set is not the generated demo data, so it needs one.
TEST_PII_KEY = "test-key-0123456789abcdef"
COMPLETED_ORDERS = 3
COMPLETED_REVENUE = 136.00

CUSTOMERS_CSV = """\
customer_id,name,email,phone,company,industry,country,city,acquisition_channel,account_owner,created_at,updated_at
C1,Alice Brown,alice@example.com,+44 20 7946 0000,Acme,Retail,UK,Leeds,referral,Ann Lee,2024-01-01T10:00:00Z,2024-01-01T10:00:00Z
C2,Bob Stone,bob@example.com,,Globex,Tech,US,Austin,paid_search,Ann Lee,2024-01-15T09:00:00Z,2024-01-15T09:00:00Z
C3,Cara Diaz,,+1 512 555 0100,Initech,Finance,US,Dallas,organic,Tom Wu,2024-02-01T12:00:00Z,2024-02-01T12:00:00Z
C4,Dan Moss,dan@example.com,,,Tech,UK,London,email,Tom Wu,2024-03-01T08:00:00Z,2024-03-01T08:00:00Z
C1,Alice Brown,alice@example.com,+44 20 7946 0000,Acme,Retail,UK,London,referral,Ann Lee,2024-01-01T10:00:00Z,2024-06-01T10:00:00Z
"""

CUSTOMERS_CN_CSV = """\
customer_id,name,email,phone,company,industry,country,city,acquisition_channel,account_owner,created_at,updated_at
C5,张伟,zhang.wei@example.cn,+86 138 0013 8000,华为技术,制造业,China,北京,offline_event,王芳,2024-02-10T02:00:00Z,2024-02-10T02:00:00Z
C6,李娜,li.na@example.cn,+86 139 0013 9000,阿里巴巴,零售,China,上海,social,王芳,2024-04-05T03:00:00Z,2024-04-05T03:00:00Z
"""

INTERACTIONS_JSONL = """\
{"interaction_id": "I1", "customer_id": "C1", "occurred_at": "2024-01-02T10:00:00Z", "interaction_type": "call", "status": "closed", "subject": "Welcome call"}
{"interaction_id": "I2", "customer_id": "C2", "occurred_at": "2024-03-02T10:00:00Z", "interaction_type": "complaint", "status": "open", "subject": "Late delivery"}
{"interaction_id": "I3", "customer_id": "C5", "occurred_at": "2024-03-03T10:00:00Z", "interaction_type": "ticket", "status": "resolved", "subject": "发票问题"}
"""

ORDERS_SQL = """
SELECT * FROM (VALUES
    ('O1', 'C1', TIMESTAMPTZ '2024-01-05 23:30:00+00', 'paid',      'CNY', 5.00, 20.00, 'online'),
    ('O2', 'C1', TIMESTAMPTZ '2024-02-07 10:00:00+00', 'shipped',   'CNY', 0.00, 21.00, 'app'),
    ('O3', 'C2', TIMESTAMPTZ '2024-02-08 10:00:00+00', 'cancelled', 'CNY', 0.00, 30.00, 'store'),
    ('O4', 'C3', TIMESTAMPTZ '2024-03-01 10:00:00+00', 'refunded',  'CNY', 0.00, 40.00, 'online'),
    ('O5', 'C5', TIMESTAMPTZ '2024-03-10 04:00:00+00', 'delivered', 'CNY', 1.50, 95.00, 'app'),
    ('O6', 'C6', TIMESTAMPTZ '2024-04-06 05:00:00+00', 'pending',   'CNY', 0.00, 12.00, 'online')
) AS t(order_id, customer_id, ordered_at, status, currency, order_discount, order_total, sales_channel)
"""

ORDER_ITEMS_CSV = """\
order_id,line_number,product_id,product_category,quantity,unit_price,line_discount
O1,1,P1,Books,2,10.00,0
O1,2,P2,Toys,1,5.50,0.50
O2,1,P3,Books,3,7.00,0
O3,1,P1,Books,3,10.00,0
O4,1,P4,Garden,1,40.00,0
O5,1,P5,Electronics,1,100.00,10.00
O5,2,P6,Toys,2,3.25,0
O5,2,P6,Toys,2,3.25,0
O6,1,P2,Toys,2,6.00,0
"""

SURVEY_RESPONSES_CSV = """\
response_id,customer_id,survey_type,score,submitted_at,comment
R1,C1,nps,9,2024-01-10T00:00:00Z,Great service
R2,C2,nps,3,2024-02-10T00:00:00Z,Too slow
R3,C5,csat,4,2024-03-12T00:00:00Z,很好
"""


def write_tiny_landing(landing: Path) -> Path:
    """Write the tiny landing directory under `landing` and return it."""
    for entity in RAW_ROWS:
        (landing / entity).mkdir(parents=True, exist_ok=True)
    (landing / "customers" / "customers.csv").write_text(CUSTOMERS_CSV, encoding="utf-8")
    (landing / "customers" / "customers_cn.csv").write_bytes(CUSTOMERS_CN_CSV.encode("gb18030"))
    (landing / "interactions" / "interactions.jsonl").write_text(INTERACTIONS_JSONL, encoding="utf-8")
    with duckdb.connect() as con:
        con.execute(f"COPY ({ORDERS_SQL}) TO '{landing / 'orders' / 'orders.parquet'}' (FORMAT parquet)")
    (landing / "order_items" / "order_items.csv").write_text(ORDER_ITEMS_CSV, encoding="utf-8")
    (landing / "survey_responses" / "survey_responses.csv").write_text(SURVEY_RESPONSES_CSV, encoding="utf-8")
    return landing


def write_usd_orders(landing: Path) -> None:
    """orders/usd.csv: one order in USD (no FX rate exists) among six clean ones, for the staging currency rule."""
    header = "order_id,customer_id,ordered_at,status,currency,order_discount,order_total,sales_channel\n"
    (landing / "orders" / "usd.csv").write_text(
        header + "O77,C1,2024-05-01T10:00:00Z,paid,USD,0,10.00,app\n"
        + "".join(f"O7{i},C1,2024-05-0{i}T10:00:00Z,paid,CNY,0,10.00,app\n" for i in range(1, 7)),
        encoding="utf-8",
    )


def write_more_orders(landing: Path) -> None:
    """orders/more.csv and order_items/more.csv: two more completed orders (C2 and C3, May 2024), all clean."""
    (landing / "orders" / "more.csv").write_text(
        "order_id,customer_id,ordered_at,status,currency,order_discount,order_total,sales_channel\n"
        "O8,C2,2024-05-02T10:00:00Z,paid,CNY,0,10.00,app\n"
        "O9,C3,2024-05-03T10:00:00Z,shipped,CNY,0,14.00,online\n",
        encoding="utf-8",
    )
    (landing / "order_items" / "more.csv").write_text(
        "order_id,line_number,product_id,product_category,quantity,unit_price,line_discount\n"
        "O8,1,P1,Books,1,10.00,0\n"
        "O9,1,P3,Books,2,7.00,0\n",
        encoding="utf-8",
    )
