"""Mapped exports: value formats, presets, one export feeding three entities, lookups, re-runs, guests,
line-less orders, `sources suggest` and `sources check`. Every expected row is written out here."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from ingestion.contract import ENTITIES
from ingestion.landing.loader import LoadError, load_landing_entity
from ingestion.mapping.check import check_sources, load_order
from ingestion.mapping.spec import SourcesConfigError, ValueFormats, mapped_sources
from ingestion.mapping.suggest import suggest
from ingestion.mapping.values import contract_text, sql_literal
from ingestion.pii import define_pseudonym_macro, pseudonym
from quality.quarantine import bad_share_guard, ensure_quarantine_tables, judge_load, rebuild_quarantine
from quality.rules.raw import timestamp_instant
from tests.fixtures import TEST_PII_KEY

RETAIL = """InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,6,12/1/2010 8:26,"1,002.55",17850,United Kingdom
536365,71053,6,12/1/2010 8:26,£3.39,17850,United Kingdom
536366,22633,2,12/1/2010 8:28,1.85,,United Kingdom
C536379,D,-1,12/1/2010 9:41,27.50,14527,United Kingdom
536367,84879,32,12/2/2010 8:34,1.69,13047,France
"""
RETAIL_SOURCES = {"files": {"retail": {
    "glob": "exports/retail*.csv", "preset": "order_lines", "timestamp_formats": ["%m/%d/%Y %H:%M"],
    "time_zone": "Europe/London", "thousands_separator": ",",
    "entities": {
        "orders": {"columns": {"status": "= CASE WHEN InvoiceNo LIKE 'C%' THEN 'refunded' ELSE 'completed' END",
                               "currency": "= 'GBP'"}},
        "order_items": {"columns": {"quantity": "= abs(try_cast(Quantity AS DECIMAL(18, 3)))"}},
        "customers": {},
    }}}}

SHOPIFY = """Name,Email,Financial Status,Paid at,Fulfillment Status,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem discount,Billing Name,Billing City,Billing Country,Billing Phone,Cancelled at,Source,Vendor
#1001,ann@example.com,paid,2023-01-05 10:20:00 -0500,fulfilled,USD,35.00,5.00,0.00,40.00,,0.00,2023-01-05 10:11:12 -0500,2,Mug,10.00,MUG-1,0.00,Ann Lee,Boston,US,+1 617 555 0101,,web,Acme
#1001,ann@example.com,,,,,,,,,,,2023-01-05 10:11:12 -0500,1,Tea,15.00,TEA-1,0.00,,,,,,,Acme
#1002,,authorized,,unfulfilled,USD,$12.00,0,0,$12.00,,0,2023-01-06 09:00:00 -0500,1,Tea,$12.00,TEA-1,0,,,,,,pos,Acme
#1003,bob@example.com,voided,,,USD,8.00,0,0,8.00,,0,2023-01-07 09:00:00 -0500,1,Cup,8.00,CUP-1,0,Bob Ray,NYC,US,,2023-01-07 12:00:00 -0500,web,Acme
"""


def write(root: Path, sources: dict, files: dict[str, str | bytes]) -> tuple[Path, Path]:
    """A landing dir with `files` and a sources file with `sources`; (landing dir, sources file)."""
    landing = root / "landing"
    landing.mkdir(parents=True, exist_ok=True)
    for relative, content in files.items():
        path = landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    sources_file = root / "sources.yml"
    sources_file.write_text(yaml.safe_dump(sources, allow_unicode=True), encoding="utf-8")
    return landing, sources_file


def load_all(landing: Path, sources_file: Path, key: str | None = TEST_PII_KEY,
             max_bad_share: float = 0.01) -> duckdb.DuckDBPyConnection:
    """Load every entity as the raw assets do (parents first), with the bad-share guard."""
    con = duckdb.connect()
    define_pseudonym_macro(con, key)
    ensure_quarantine_tables(con)
    for entity in load_order():
        load_landing_entity(con, landing, entity, guard=bad_share_guard(max_bad_share),
                            mapped=mapped_sources(sources_file))
    return con


def rows(con: duckdb.DuckDBPyConnection, entity: str, columns: str) -> list[tuple]:
    return con.execute(f"SELECT {columns} FROM raw.{entity} ORDER BY _row_number").fetchall()


@pytest.mark.parametrize(("kind", "formats", "received", "expected"), [
    ("timestamp", ValueFormats(("%Y-%m-%d %H:%M:%S %z",)), "2023-01-05 10:11:12 -0500", "2023-01-05T15:11:12.000000Z"),
    ("timestamp", ValueFormats(), "2023-01-05 10:11:12 -0500", "2023-01-05T15:11:12.000000Z"),
    ("timestamp", ValueFormats(("%d/%m/%Y %H:%M %z",)), "05/01/2023 10:11 +0800", "2023-01-05T02:11:00.000000Z"),
    ("timestamp", ValueFormats(("%m/%d/%Y",)), "1/7/2023", "2023-01-07 00:00:00.000000"),
    ("timestamp", ValueFormats(("%d.%m.%Y",)), "05.01.2023", "2023-01-05 00:00:00.000000"),
    ("timestamp", ValueFormats(("%Y%m%d",)), "19970101", "1997-01-01 00:00:00.000000"),
    # A naive time in the source's zone: London is on summer time (UTC+1) in July.
    ("timestamp", ValueFormats(("%m/%d/%Y %H:%M",), "Europe/London"), "7/1/2011 10:00", "2011-07-01T09:00:00.000000Z"),
    # ISO still reads when formats are declared; text naming its zone becomes that instant in UTC.
    ("timestamp", ValueFormats(("%d.%m.%Y",)), "2023-01-05 10:00", "2023-01-05 10:00:00.000000"),
    ("timestamp", ValueFormats(("%d.%m.%Y",)), "2023-01-05T10:00:00+08:00", "2023-01-05T02:00:00.000000Z"),
    ("timestamp", ValueFormats(("%d.%m.%Y",)), "soon", "soon"),  # nothing reads it: kept for the raw rules
    ("decimal", ValueFormats(thousands_separator=","), "1,234.50", "1234.50"),
    ("decimal", ValueFormats(), "$15.00", "15.00"),
    ("decimal", ValueFormats(), "¥12.00", "12.00"),
    ("decimal", ValueFormats(), "12.00 元", "12.00"),
    ("decimal", ValueFormats(decimal_separator=",", thousands_separator="."), "1.234,50", "1234.50"),
    ("decimal", ValueFormats(decimal_separator=","), "R$ 15,00", "15.00"),
    ("decimal", ValueFormats(thousands_separator=" "), "1 234.50", "1234.50"),
    ("decimal", ValueFormats(), "(12.50)", "-12.50"),
    # Only a value in the declared local form is rewritten: 12.5 stays 12.5 under a decimal comma.
    ("decimal", ValueFormats(decimal_separator=",", thousands_separator="."), "12.5", "12.5"),
    ("decimal", ValueFormats(decimal_separator=",", thousands_separator="."), "1.234", "1234"),
    ("decimal", ValueFormats(), "twelve", "twelve"),
    ("integer", ValueFormats(thousands_separator=","), "1,200", "1200"),
    ("text", ValueFormats(thousands_separator=","), "1,200", "1,200"),
])
def test_everyday_formats_become_contract_text(kind, formats, received, expected):
    con = duckdb.connect()
    (value,) = con.execute(f"SELECT {contract_text(sql_literal(received), kind, formats)}").fetchone()
    assert value == expected


@pytest.mark.parametrize(("received", "expected"), [("1.234", "1.234"), ("12,5", "12.5"), ("1.234,50", "1234.50")])
def test_typed_exports_keep_their_numbers_and_rewrite_only_local_text(received, expected):
    # An Excel, Parquet or JSON number is written with a point: under a decimal comma it is not re-read.
    formats = ValueFormats(decimal_separator=",", thousands_separator=".")
    (value,) = duckdb.connect().execute(
        f"SELECT {contract_text(sql_literal(received), 'decimal', formats, typed_export=True)}").fetchone()
    assert value == expected


def test_text_the_mapping_writes_is_read_as_the_instant_it_names():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for text, instant in [("2023-01-05T15:11:12.000000Z", "2023-01-05 15:11:12"),
                          ("2023-01-05 10:11:12 -0500", "2023-01-05 15:11:12"),  # a blank before the offset
                          ("2023-01-05 10:00:00 +08:00", "2023-01-05 02:00:00")]:
        (value,) = con.execute(f"SELECT strftime(({timestamp_instant(sql_literal(text))}) AT TIME ZONE 'UTC', "
                               "'%Y-%m-%d %H:%M:%S')").fetchone()
        assert value == instant, text


def test_one_invoice_line_export_feeds_orders_lines_and_customers_and_a_rerun_loads_nothing(tmp_path):
    landing, sources_file = write(tmp_path, RETAIL_SOURCES, {"exports/retail.csv": RETAIL})
    con = load_all(landing, sources_file)
    assert rows(con, "orders", "order_id, customer_id, ordered_at, status, currency, _source_file, _row_number") == [
        ("536365", "17850", "2010-12-01T08:26:00.000000Z", "completed", "GBP", "exports/retail.csv", 1),
        ("536366", None, "2010-12-01T08:28:00.000000Z", "completed", "GBP", "exports/retail.csv", 3),
        ("C536379", "14527", "2010-12-01T09:41:00.000000Z", "refunded", "GBP", "exports/retail.csv", 4),
        ("536367", "13047", "2010-12-02T08:34:00.000000Z", "completed", "GBP", "exports/retail.csv", 5),
    ]
    assert rows(con, "order_items", "order_id, line_number, product_id, quantity, unit_price, _row_number") == [
        ("536365", "1", "85123A", "6.000", "1002.55", 1),
        ("536365", "2", "71053", "6.000", "3.39", 2),
        ("536366", "1", "22633", "2.000", "1.85", 3),
        ("C536379", "1", "D", "1.000", "27.50", 4),
        ("536367", "1", "84879", "32.000", "1.69", 5),
    ]
    assert rows(con, "customers", "customer_id, country, created_at, _row_number") == [
        ("17850", "United Kingdom", "2010-12-01T08:26:00.000000Z", 1),
        ("14527", "United Kingdom", "2010-12-01T09:41:00.000000Z", 4),
        ("13047", "France", "2010-12-02T08:34:00.000000Z", 5),
    ]
    # The guest order (no CustomerID) is no defect: nothing quarantined, nothing against the bad share.
    for entity in load_order():
        rebuild_quarantine(con, entity)
    assert con.execute("SELECT count(*) FROM quarantine.orders").fetchone() == (0,)
    (load_id,) = con.execute("SELECT load_id FROM raw._load_manifest WHERE entity = 'orders'").fetchone()
    assert judge_load(con, ENTITIES["orders"], load_id, "exports/retail.csv").bad_rows == 0
    # The manifest says where each contract column came from.
    (note,) = con.execute("SELECT note FROM raw._load_manifest WHERE entity = 'orders'").fetchone()
    assert "mapped by files.retail from 5 export rows: order_id <- InvoiceNo, customer_id <- CustomerID" in note
    again = [load_landing_entity(con, landing, entity, mapped=mapped_sources(sources_file)) for entity in load_order()]
    assert [load.rows_loaded for load in again] == [0] * len(again)
    assert {f.status for load in again for f in load.files} == {"unchanged"}


def test_shopify_preset_reads_line_rows_and_makes_email_pseudonyms_the_customer_ids(tmp_path):
    landing, sources_file = write(tmp_path, {"files": {"shop": {"glob": "shopify/*.csv", "preset": "shopify_orders"}}},
                                  {"shopify/orders_export.csv": SHOPIFY})
    con = load_all(landing, sources_file)
    ann, bob = (pseudonym(TEST_PII_KEY, address) for address in ("ann@example.com", "bob@example.com"))
    assert rows(con, "orders", "order_id, customer_id, ordered_at, status, currency, order_total, sales_channel") == [
        ("#1001", ann, "2023-01-05T15:11:12.000000Z", "paid", "USD", "35.00", "web"),
        ("#1002", None, "2023-01-06T14:00:00.000000Z", "authorized", "USD", "12.00", "pos"),
        ("#1003", bob, "2023-01-07T14:00:00.000000Z", "cancelled", "USD", "8.00", "web"),
    ]
    assert rows(con, "order_items", "order_id, line_number, product_id, quantity, unit_price") == [
        ("#1001", "1", "MUG-1", "2", "10.00"),
        ("#1001", "2", "TEA-1", "1", "15.00"),
        ("#1002", "1", "TEA-1", "1", "12.00"),
        ("#1003", "1", "CUP-1", "1", "8.00"),
    ]
    assert rows(con, "customers", "customer_id, name, email, city, created_at") == [
        (ann, "Ann Lee", "ann@example.com", "Boston", "2023-01-05T15:11:12.000000Z"),
        (bob, "Bob Ray", "bob@example.com", "NYC", "2023-01-07T14:00:00.000000Z"),
    ]
    # Its status words are recorded per file, for staging and the status rule.
    assert ("shopify/orders_export.csv", "authorized", "completed") in con.execute(
        "SELECT * FROM raw._source_statuses").fetchall()


def test_a_mapping_that_pseudonymises_refuses_to_load_without_a_key(tmp_path):
    landing, sources_file = write(tmp_path, {"files": {"shop": {"glob": "shopify/*.csv", "preset": "shopify_orders"}}},
                                  {"shopify/orders_export.csv": SHOPIFY})
    with pytest.raises(LoadError, match="pseudonym_email needs a PII key"):
        load_all(landing, sources_file, key=None)


def chinese_workbook(path: Path, title: bool = True) -> None:
    """An Excel export of a Chinese CRM: a blank row inside, and (with `title`) a title row above the header."""
    frame = pd.DataFrame({
        "客户编号": ["K001", "K002", None, "K003"], "客户名称": ["张三", "李四", None, "王五"],
        "手机": ["13800138000", "13900139000", None, None], "邮箱": ["zs@example.cn", None, None, "ww@example.cn"],
        "创建时间": pd.to_datetime(["2023-01-05 10:00", "2023-02-01 09:30", None, "2023-03-15 14:00"]),
        "负责人": ["赵经理", "钱经理", None, "赵经理"], "城市": ["北京", "上海", None, "深圳"], "积分": [10.0, 25.0, None, 7.0]})
    with pd.ExcelWriter(path) as writer:
        if title:
            pd.DataFrame([["客户列表导出"]]).to_excel(writer, sheet_name="客户", index=False, header=False)
        frame.to_excel(writer, sheet_name="客户", index=False, startrow=1 if title else 0)


def test_excel_export_with_a_chinese_header_loads_through_the_chinese_alias_preset(tmp_path):
    landing, sources_file = write(tmp_path, {"files": {"crm": {
        "glob": "crm/*.xlsx", "preset": "chinese_crm", "skip_rows": 1, "sheet": "客户", "entities": {"customers": {}}}}},
        {})
    (landing / "crm").mkdir(parents=True)
    chinese_workbook(landing / "crm" / "客户导出.xlsx")
    con = load_all(landing, sources_file)
    assert rows(con, "customers", "customer_id, name, phone, email, city, account_owner, created_at, _row_number") == [
        ("K001", "张三", "13800138000", "zs@example.cn", "北京", "赵经理", "2023-01-05 10:00:00.000000", 1),
        ("K002", "李四", "13900139000", None, "上海", "钱经理", "2023-02-01 09:30:00.000000", 2),
        # The blank sheet row 3 is not a row; K003 keeps its own row number.
        ("K003", "王五", None, "ww@example.cn", "深圳", "赵经理", "2023-03-15 14:00:00.000000", 4),
    ]


MARKETPLACE_ORDERS = """order_id,customer_id,order_status,order_purchase_timestamp
o1,c1,delivered,2017-10-02 10:56:33
o2,c2,canceled,2017-10-03 09:00:00
o3,c3,delivered,2017-10-04 09:00:00
o4,c4,shipped,2017-10-05 09:00:00
"""
MARKETPLACE_ITEMS = """order_id,order_item_id,product_id,price,freight_value
o1,1,p1,29.99,8.72
o1,2,p2,10.00,8.72
o4,1,p1,29.99,5.00
"""
MARKETPLACE_PEOPLE = """customer_id,customer_unique_id,customer_city
c1,u1,sao paulo
c2,u2,rio de janeiro
c3,u1,sao paulo
c4,u3,curitiba
"""


def test_orders_find_their_customer_through_a_second_id_and_a_completed_order_without_lines_is_quarantined(tmp_path):
    sources = {"files": {
        "people": {"glob": "market/customers.csv", "entities": {"customers": {
            "where": "_row_number = min(_row_number) OVER (PARTITION BY customer_unique_id)",
            "columns": {"customer_id": "customer_unique_id", "city": "customer_city",
                        "created_at": "= (SELECT min(o.order_purchase_timestamp) FROM orders AS o JOIN people AS p "
                                      "ON o.customer_id = p.customer_id "
                                      "WHERE p.customer_unique_id = export.customer_unique_id)"}}},
            "lookups": {"orders": "market/orders.csv", "people": "market/customers.csv"}},
        "orders": {"glob": "market/orders.csv", "lookups": {"people": "market/customers.csv"},
                   "entities": {"orders": {"columns": {
                       "order_id": "order_id", "status": "order_status", "ordered_at": "order_purchase_timestamp",
                       "customer_id": "= (SELECT people.customer_unique_id FROM people "
                                      "WHERE people.customer_id = export.customer_id)"}}}},
        "items": {"glob": "market/items.csv", "entities": {"order_items": {"columns": {
            "order_id": "order_id", "line_number": "order_item_id", "product_id": "product_id",
            "quantity": "= 1", "unit_price": "price"}}}},
    }}
    landing, sources_file = write(tmp_path, sources, {"market/orders.csv": MARKETPLACE_ORDERS,
                                                      "market/items.csv": MARKETPLACE_ITEMS,
                                                      "market/customers.csv": MARKETPLACE_PEOPLE})
    con = load_all(landing, sources_file)
    assert rows(con, "orders", "order_id, customer_id, status") == [
        ("o1", "u1", "delivered"), ("o2", "u2", "canceled"), ("o3", "u1", "delivered"), ("o4", "u3", "shipped")]
    assert rows(con, "customers", "customer_id, city, created_at") == [
        ("u1", "sao paulo", "2017-10-02 10:56:33.000000"), ("u2", "rio de janeiro", "2017-10-03 09:00:00.000000"),
        ("u3", "curitiba", "2017-10-05 09:00:00.000000")]
    for entity in load_order():
        rebuild_quarantine(con, entity)
    # o3 is delivered (completed) with neither lines nor a total: quarantined with its own reason;
    # o2 is cancelled without lines: a normal row.
    assert con.execute("SELECT order_id, _quarantine_rule, _quarantine_own_defect FROM quarantine.orders"
                       ).fetchall() == [("o3", "orders.revenue_known", False)]


def test_a_mapping_naming_a_column_the_export_lacks_says_which_names_it_looked_for(tmp_path):
    sources = {"files": {"x": {"glob": "x/*.csv", "entities": {"orders": {"columns": {
        "order_id": ["order_id", "订单编号"], "customer_id": "cust", "ordered_at": "date", "status": "= 'paid'"}}}}}}
    landing, sources_file = write(tmp_path, sources, {"x/a.csv": "id,cust,date\n1,c1,2024-01-01\n"})
    with pytest.raises(LoadError, match=r"files\.x\.entities\.orders\.columns\.order_id: x/a\.csv has none of "
                                        r"'order_id', '订单编号'; it has 'id', 'cust', 'date'"):
        load_all(landing, sources_file)
    bad = {"files": {"x": {"glob": "x/*.csv", "entities": {"orders": {"columns": {"order_id": "id"}}}}}}
    with pytest.raises(SourcesConfigError, match="the orders contract requires customer_id, ordered_at, status"):
        mapped_sources(write(tmp_path / "b", bad, {})[1])


CDNOW_LOG = """00001 19970101  1   11.77\r
00002 19970112  1   12.00\r
00002 19970112  5   77.00\r
00003 19970102  2   20.76\r
"""


def test_suggest_proposes_the_right_columns_for_three_shapes_of_export(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "Online Retail.csv").write_text(RETAIL, encoding="utf-8")
    (exports / "cdnow.txt").write_text(CDNOW_LOG, encoding="utf-8")
    chinese_workbook(exports / "客户.xlsx", title=False)
    retail = suggest(exports / "Online Retail.csv")
    assert retail.draft["timestamp_formats"] == ["%m/%d/%Y %H:%M"]
    assert retail.draft["thousands_separator"] == ","
    assert retail.draft["entities"]["orders"]["columns"] == {
        "order_id": "InvoiceNo", "customer_id": "CustomerID", "ordered_at": "InvoiceDate", "status": "= 'completed'"}
    assert {k: v for k, v in retail.draft["entities"]["order_items"]["columns"].items() if not v.startswith("=")} == {
        "order_id": "InvoiceNo", "product_id": "StockCode", "quantity": "Quantity", "unit_price": "UnitPrice"}
    assert retail.draft["entities"]["customers"]["columns"]["country"] == "Country"
    log = suggest(exports / "cdnow.txt")
    assert log.draft["delimiter"] == "whitespace" and log.draft["header"] is False
    assert log.draft["timestamp_formats"] == ["%Y%m%d"]
    assert {k: v for k, v in log.draft["entities"]["orders"]["columns"].items() if not v.startswith("=")} == {
        "customer_id": "column0", "ordered_at": "column1", "order_total": "column3"}
    assert any("4 of 4 sample rows (100.0%) pass" in note for note in log.notes)
    crm = suggest(exports / "客户.xlsx")
    assert crm.draft["entities"] == {"customers": {"columns": {
        "customer_id": "客户编号", "name": "客户名称", "email": "邮箱", "phone": "手机", "city": "城市",
        "account_owner": "负责人", "created_at": "创建时间"}}}
    shop = exports / "orders_export.csv"
    shop.write_text(SHOPIFY, encoding="utf-8")
    assert suggest(shop).draft["preset"] == "shopify_orders"


def test_check_counts_what_a_load_then_quarantines(tmp_path):
    broken = RETAIL + "536368,X1,2,12/3/2010 8:00,abc,13047,France\n536369,X2,1,not a date,1.00,99999,France\n"
    landing, sources_file = write(tmp_path, {**RETAIL_SOURCES, "files": {"retail": {
        **RETAIL_SOURCES["files"]["retail"], "statuses": {}}}}, {"exports/retail.csv": broken})
    checks = {c.entity: c for c in check_sources(landing, sources_file, TEST_PII_KEY)}
    orders, items = checks["orders"], checks["order_items"]
    # Hand count: order 536369 has a date nothing reads; order 536368's one line has a price that is no
    # number, so that completed order has no usable line and no total. Both lines (7, 6) are then lines
    # of quarantined orders, and line 6 has its own defect besides.
    assert (orders.received, orders.quarantined, orders.guests, orders.orphans) == (6, 2, 1, 0)
    assert orders.by_rule == {
        "ordered_at is not a timestamp": 1,
        "the order is completed but has neither lines nor an order_total, so its revenue is unknown": 1}
    assert (items.received, items.quarantined) == (7, 2)
    assert items.by_rule == {"order_id names a orders row that is itself quarantined": 2,
                             "unit_price is not a number (or has more than 14 digits before the point)": 1}
    assert next(c for c in items.columns if c.column == "unit_price").quarantined == 1
    # The same files loaded and judged as a run does (guard, then quarantine) give the same counts.
    con = load_all(landing, sources_file, max_bad_share=0.5)
    for entity in load_order():
        rebuild_quarantine(con, entity)
    for entity, check in checks.items():
        assert con.execute(f"SELECT count(*) FROM quarantine.{entity}").fetchone()[0] == check.quarantined, entity


def test_a_refused_export_names_its_file_row_and_own_column(tmp_path):
    broken = RETAIL.replace("1.85", "n/a")  # row 3 of five: 20 % of the lines break a rule
    landing, sources_file = write(tmp_path, RETAIL_SOURCES, {"exports/retail.csv": broken})
    with pytest.raises(Exception) as refused:
        load_all(landing, sources_file)
    assert str(refused.value).splitlines() == [
        "exports/retail.csv: 1 of 5 order_items rows (20.00%) break the raw rules, more than the 1.00% allowed "
        "(RETENTION_MAX_BAD_SHARE); the file was not loaded. Fix it (or raise the limit) and run again.",
        "  - unit_price is not a number (or has more than 14 digits before the point): 1 rows, first row 3 "
        "(unit_price = 'n/a') (from the export's 'UnitPrice')",
    ]


@pytest.mark.parametrize("suffix", ["parquet", "jsonl"])
def test_parquet_and_json_lines_exports_map_like_csv(tmp_path, suffix):
    import io

    frame = pd.read_csv(io.StringIO(RETAIL), dtype=str, keep_default_na=False)
    export = tmp_path / f"retail.{suffix}"
    if suffix == "parquet":
        frame.replace("", None).to_parquet(export, index=False)
    else:
        frame.replace("", None).to_json(export, orient="records", lines=True, force_ascii=False)
    sources = {"files": {"retail": {**RETAIL_SOURCES["files"]["retail"], "glob": f"exports/retail*.{suffix}"}}}
    landing, sources_file = write(tmp_path, sources, {f"exports/retail.{suffix}": export.read_bytes()})
    con = load_all(landing, sources_file)
    assert rows(con, "orders", "order_id, customer_id, ordered_at, status, _row_number") == [
        ("536365", "17850", "2010-12-01T08:26:00.000000Z", "completed", 1),
        ("536366", None, "2010-12-01T08:28:00.000000Z", "completed", 3),
        ("C536379", "14527", "2010-12-01T09:41:00.000000Z", "refunded", 4),
        ("536367", "13047", "2010-12-02T08:34:00.000000Z", "completed", 5),
    ]
    assert rows(con, "order_items", "order_id, unit_price") == [
        ("536365", "1002.55"), ("536365", "3.39"), ("536366", "1.85"), ("C536379", "27.50"), ("536367", "1.69")]


def test_a_corrected_mapping_loads_the_export_again_as_its_next_version(tmp_path):
    landing, sources_file = write(tmp_path, RETAIL_SOURCES, {"exports/retail.csv": RETAIL})
    con = load_all(landing, sources_file)
    euro = yaml.safe_load(sources_file.read_text(encoding="utf-8"))
    euro["files"]["retail"]["entities"]["orders"]["columns"]["currency"] = "= 'EUR'"
    sources_file.write_text(yaml.safe_dump(euro, allow_unicode=True), encoding="utf-8")
    again = load_landing_entity(con, landing, ENTITIES["orders"], mapped=mapped_sources(sources_file))
    assert [(f.status, f.file_version, f.rows) for f in again.files] == [("new_version", 2, 4)]
    assert con.execute("SELECT DISTINCT currency FROM raw.orders__current").fetchall() == [("EUR",)]


def test_two_mappings_may_not_load_one_file_into_one_entity(tmp_path):
    sources = {"files": {"a": RETAIL_SOURCES["files"]["retail"],
                         "b": {**RETAIL_SOURCES["files"]["retail"], "glob": "exports/*.csv"}}}
    landing, sources_file = write(tmp_path, sources, {"exports/retail.csv": RETAIL})
    with pytest.raises(SourcesConfigError, match="exports/retail.csv is claimed by files.a and files.b, which both "
                                                 "feed customers"):
        load_all(landing, sources_file)


def test_a_malformed_json_line_passes_the_entity_filter_to_the_quarantine(tmp_path):
    lines = '{"id": "1", "who": "c1", "at": "2024-01-01"}\n{not json\n{"id": "2", "who": "", "at": "2024-01-02"}\n'
    sources = {"files": {"log": {"glob": "log/*.jsonl", "entities": {"orders": {
        "where": "nullif(who, '') IS NOT NULL",
        "columns": {"order_id": "id", "customer_id": "who", "ordered_at": "at", "status": "= 'paid'"}}}}}}
    landing, sources_file = write(tmp_path, sources, {"log/a.jsonl": lines})
    con = load_all(landing, sources_file, max_bad_share=1.0)
    assert rows(con, "orders", "order_id, _row_number, _parse_error") == [
        ("1", 1, None), (None, 2, "line 2 is not valid JSON")]


def test_rows_of_a_whitespace_log_and_an_excel_sheet_are_numbered_under_their_header(tmp_path):
    log = "customer  date       dollars\n00001  19970101  11.77\n00002  19970112  12.00\n"
    frame = pd.DataFrame([["K1", "A", "B"], ["K2", "C", "D"]], columns=["客户编号", "城市", "城市"])
    sources = {"files": {
        "log": {"glob": "log/*.txt", "format": "csv", "delimiter": "whitespace", "timestamp_formats": ["%Y%m%d"],
                "entities": {"orders": {"columns": {"order_id": "= customer || '-' || _row_number",
                                                    "customer_id": "customer", "ordered_at": "date",
                                                    "status": "= 'completed'", "order_total": "dollars"}},
                             "customers": {"columns": {"customer_id": "customer", "created_at": "date"}}}},
        # A sheet with its header twice: the second 城市 is 城市_1, as DuckDB names a CSV's repeated column.
        "crm": {"glob": "crm/*.xlsx", "entities": {"customers": {"columns": {
            "customer_id": "客户编号", "city": "城市_1", "created_at": "= '2024-01-01'"}}}}}}
    landing, sources_file = write(tmp_path, sources, {"log/cdnow.txt": log})
    (landing / "crm").mkdir()
    frame.to_excel(landing / "crm" / "客户.xlsx", index=False)
    con = load_all(landing, sources_file)
    assert rows(con, "orders", "order_id, order_total, _row_number") == [("00001-1", "11.77", 1), ("00002-2", "12.00", 2)]
    assert con.execute("SELECT customer_id, city, _row_number FROM raw.customers ORDER BY _source_file, _row_number"
                       ).fetchall() == [("K1", "B", 1), ("K2", "D", 2), ("00001", None, 1), ("00002", None, 2)]


HUBSPOT_CONTACTS = """Record ID,First Name,Last Name,Email,Phone Number,Create Date,Lifecycle Stage,Contact owner
101,Ann,Lee,ann@example.com,+1 555 0101,2023-01-05 10:00,customer,Bob Ray
102,Cy,Ng,cy@example.com,,2023-02-01 09:30,lead,Bob Ray
"""
STRIPE_PAYMENTS = """id,Customer ID,Amount,Currency,Created (UTC),Status
ch_1,cus_1,"$1,000.00",usd,2023-01-05 10:00:00,Paid
ch_2,cus_1,$12.00,usd,2023-01-06 10:00:00,Failed
"""


FULL_NAME = '= "First Name" || \' \' || "Last Name"'


def test_crm_contacts_and_orders_export_presets(tmp_path):
    sources = {"files": {
        "contacts": {"glob": "hubspot/*.csv", "preset": "crm_contacts",
                     "entities": {"customers": {"columns": {"name": FULL_NAME}}}},
        "payments": {"glob": "stripe/*.csv", "preset": "orders_export", "thousands_separator": ","},
    }}
    landing, sources_file = write(tmp_path, sources, {"hubspot/contacts.csv": HUBSPOT_CONTACTS,
                                                      "stripe/payments.csv": STRIPE_PAYMENTS})
    con = load_all(landing, sources_file)
    assert con.execute("SELECT customer_id, name, email, account_owner, created_at FROM raw.customers "
                       "ORDER BY _source_file, _row_number").fetchall() == [
        ("101", "Ann Lee", "ann@example.com", "Bob Ray", "2023-01-05 10:00:00.000000"),
        ("102", "Cy Ng", "cy@example.com", "Bob Ray", "2023-02-01 09:30:00.000000"),
        ("cus_1", None, None, None, "2023-01-05 10:00:00.000000"),  # known from the first payment
    ]
    assert rows(con, "orders", "order_id, customer_id, status, currency, order_total") == [
        ("ch_1", "cus_1", "Paid", "usd", "1000.00"), ("ch_2", "cus_1", "Failed", "usd", "12.00")]
    hubspot = suggest(landing / "hubspot" / "contacts.csv")
    assert hubspot.draft["entities"] == {"customers": {"columns": {
        "customer_id": "Record ID", "email": "Email", "phone": "Phone Number", "account_owner": "Contact owner",
        "created_at": "Create Date"}}}
