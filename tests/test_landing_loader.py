"""Loading landing files into raw: formats, encodings, lineage, the manifest, idempotency."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.contract import CUSTOMERS, ENTITIES, ORDER_ITEMS, ORDERS
from ingestion.landing.encoding import fingerprint, transcode_to_utf8
from ingestion.landing.loader import LoadError, load_landing_entity
from tests.fixtures import RAW_ROWS


def raw_count(con, entity: str) -> int:
    """Rows in a raw table."""
    return con.execute(f"SELECT count(*) FROM raw.{entity}").fetchone()[0]


def load_all(con, landing: Path) -> dict[str, int]:
    """Load every entity; return rows loaded per entity."""
    return {name: load_landing_entity(con, landing, entity).rows_loaded for name, entity in ENTITIES.items()}


def test_every_format_loads_with_exact_row_counts(warehouse, tiny_landing):
    assert load_all(warehouse, tiny_landing) == RAW_ROWS
    assert {e: raw_count(warehouse, e) for e in RAW_ROWS} == RAW_ROWS


def test_second_load_adds_no_rows_and_manifest_has_one_entry_per_file(warehouse, tiny_landing):
    load_all(warehouse, tiny_landing)
    second = load_all(warehouse, tiny_landing)
    assert second == {e: 0 for e in RAW_ROWS}
    assert {e: raw_count(warehouse, e) for e in RAW_ROWS} == RAW_ROWS
    manifest = warehouse.execute(
        "SELECT source_file, file_version, rows_loaded FROM raw._load_manifest ORDER BY source_file"
    ).fetchall()
    assert manifest == [
        ("customers/customers.csv", 1, 5),
        ("customers/customers_cn.csv", 1, 2),
        ("interactions/interactions.jsonl", 1, 3),
        ("order_items/order_items.csv", 1, 9),
        ("orders/orders.parquet", 1, 6),
        ("survey_responses/survey_responses.csv", 1, 3),
    ]


def test_changed_file_with_same_name_is_loaded_as_new_version(warehouse, tiny_landing):
    load_landing_entity(warehouse, tiny_landing, ORDER_ITEMS)
    path = tiny_landing / "order_items" / "order_items.csv"
    path.write_text(path.read_text() + "O6,2,P1,Books,1,10.00,0\n", encoding="utf-8")
    result = load_landing_entity(warehouse, tiny_landing, ORDER_ITEMS)
    (outcome,) = result.files
    assert (outcome.status, outcome.file_version, outcome.rows) == ("new_version", 2, 10)
    assert outcome.note == "content changed since version 1: loaded 10 rows as version 2, which replaces it"
    # Both versions are kept as received; only the latest counts (staging reads the current view).
    assert raw_count(warehouse, "order_items") == 19
    assert warehouse.execute("SELECT count(*) FROM raw.order_items__current").fetchone() == (10,)
    versions = warehouse.execute(
        "SELECT file_version, rows_loaded FROM raw._load_manifest ORDER BY file_version"
    ).fetchall()
    assert versions == [(1, 9), (2, 10)]


def test_a_file_is_read_again_only_when_its_signature_changed(warehouse, tiny_landing, monkeypatch):
    import os

    import ingestion.landing.loader as loader

    hashed: list[str] = []
    real_fingerprint = loader.fingerprint

    def counting_fingerprint(path, *args, **kwargs):
        hashed.append(path.name)
        return real_fingerprint(path, *args, **kwargs)

    monkeypatch.setattr(loader, "fingerprint", counting_fingerprint)
    path = tiny_landing / "order_items" / "order_items.csv"
    load_landing_entity(warehouse, tiny_landing, ORDER_ITEMS)
    assert hashed == ["order_items.csv"]

    # Untouched: known from its signature, not read.
    (outcome,) = load_landing_entity(warehouse, tiny_landing, ORDER_ITEMS).files
    assert (outcome.status, outcome.file_version, hashed) == ("unchanged", 1, ["order_items.csv"])

    # Touched (new modification time, same bytes): read once, found the same, and its new signature kept.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    for _ in range(2):
        (outcome,) = load_landing_entity(warehouse, tiny_landing, ORDER_ITEMS).files
        assert (outcome.status, outcome.file_version) == ("unchanged", 1)
    assert hashed == ["order_items.csv", "order_items.csv"]

    # Rewritten with other bytes of the same size and its modification time set back: the change
    # time moved, so it is read and loaded as a new version.
    touched = path.stat()
    content = path.read_text(encoding="utf-8")
    changed = content.replace("Books", "Bookz", 1)
    assert changed != content and len(changed) == len(content)
    path.write_text(changed, encoding="utf-8")
    os.utime(path, ns=(touched.st_atime_ns, touched.st_mtime_ns))
    assert path.stat().st_size == touched.st_size and path.stat().st_mtime_ns == touched.st_mtime_ns
    (outcome,) = load_landing_entity(warehouse, tiny_landing, ORDER_ITEMS).files
    assert (outcome.status, outcome.file_version) == ("new_version", 2)
    assert len(hashed) == 3


def test_lineage_columns_name_file_and_row(warehouse, tiny_landing):
    load_landing_entity(warehouse, tiny_landing, CUSTOMERS)
    rows = warehouse.execute(
        "SELECT customer_id, city, _source, _source_file, _row_number FROM raw.customers "
        "ORDER BY _source_file, _row_number"
    ).fetchall()
    assert rows == [
        ("C1", "Leeds", "files", "customers/customers.csv", 1),
        ("C2", "Austin", "files", "customers/customers.csv", 2),
        ("C3", "Dallas", "files", "customers/customers.csv", 3),
        ("C4", "London", "files", "customers/customers.csv", 4),
        ("C1", "London", "files", "customers/customers.csv", 5),
        ("C5", "北京", "files", "customers/customers_cn.csv", 1),
        ("C6", "上海", "files", "customers/customers_cn.csv", 2),
    ]
    # Every raw value is the source text.
    types = {t for (t,) in warehouse.execute(
        "SELECT DISTINCT data_type FROM duckdb_columns() WHERE table_name = 'customers' AND NOT starts_with(column_name, '_')"
    ).fetchall()}
    assert types == {"VARCHAR"}


def test_row_numbers_follow_file_order_on_a_large_file(warehouse, tmp_path):
    landing = tmp_path / "landing"
    (landing / "orders").mkdir(parents=True)
    lines = ["order_id,customer_id,ordered_at,status"] + [f"O{i},C{i % 97},2024-01-01,paid" for i in range(1, 300_001)]
    (landing / "orders" / "big.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    load_landing_entity(warehouse, landing, ORDERS)
    mismatches = warehouse.execute(
        "SELECT count(*) FROM raw.orders WHERE order_id <> 'O' || _row_number"
    ).fetchone()[0]
    assert mismatches == 0
    assert raw_count(warehouse, "orders") == 300_000


def test_parquet_timestamps_arrive_as_utc_text(warehouse, tiny_landing):
    load_landing_entity(warehouse, tiny_landing, ORDERS)
    (ordered_at,) = warehouse.execute("SELECT ordered_at FROM raw.orders WHERE order_id = 'O1'").fetchone()
    assert ordered_at == "2024-01-05 23:30:00+00"


def test_schema_drift_keeps_new_columns_and_missing_ones_stay_null(warehouse, tmp_path):
    landing = tmp_path / "landing"
    (landing / "orders").mkdir(parents=True)
    (landing / "orders" / "a.csv").write_text(
        "order_id,customer_id,ordered_at,status,loyalty_tier\nO1,C1,2024-01-01,paid,gold\n", encoding="utf-8")
    load = load_landing_entity(warehouse, landing, ORDERS)
    row = warehouse.execute("SELECT order_id, currency, loyalty_tier FROM raw.orders").fetchone()
    assert row == ("O1", None, "gold")
    note = load.files[0].note
    assert load.files[0].schema_drift == ("columns missing (left empty): currency, order_discount, order_total, "
                                          "sales_channel; columns not in the contract (kept in raw): loyalty_tier")
    assert load.files[0].schema_drift in note


def test_missing_required_column_refuses_the_file_and_suggests_the_rename(warehouse, tmp_path):
    landing = tmp_path / "landing"
    (landing / "orders").mkdir(parents=True)
    (landing / "orders" / "a.csv").write_text(
        "order_id,customer_id,order_date,status\nO1,C1,2024-01-01,paid\n", encoding="utf-8")
    with pytest.raises(LoadError) as err:
        load_landing_entity(warehouse, landing, ORDERS)
    assert str(err.value).startswith("orders/a.csv: no column 'ordered_at' (renamed to 'order_date'?)")
    assert warehouse.execute("SELECT count(*) FROM raw.orders").fetchone() == (0,)
    assert warehouse.execute("SELECT count(*) FROM raw._load_manifest").fetchone() == (0,)


def test_gb18030_is_detected_and_transcoded(tmp_path):
    path = tmp_path / "cn.csv"
    path.write_bytes("name\n张伟\n".encode("gb18030"))
    assert fingerprint(path, inspect_text=True).encoding == "gb18030"
    utf8_path = tmp_path / "utf8.csv"
    transcode_to_utf8(path, utf8_path, "gb18030")
    assert utf8_path.read_text(encoding="utf-8") == "name\n张伟\n"


def test_utf8_file_is_detected_as_utf8(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("name\n张伟\n", encoding="utf-8")
    assert fingerprint(path, inspect_text=True).encoding == "utf-8"


def test_broken_byte_is_replaced_and_its_line_named(tmp_path):
    path = tmp_path / "broken.csv"
    good = "name,city\n".encode("gb18030") + "张伟,北京\n".encode("gb18030")
    path.write_bytes(good + b"x,\x81\n")  # 0x81 starts a GB18030 sequence that never completes
    seen = fingerprint(path, inspect_text=True)
    assert (seen.encoding, seen.decodes_cleanly, seen.needs_transcoding) == ("gb18030", False, True)
    report = transcode_to_utf8(path, tmp_path / "out.csv", "gb18030")
    assert (report.replaced, report.first_line) == (1, 3)
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == "name,city\n张伟,北京\nx,\ufffd\n"


def test_utf8_file_with_one_broken_byte_stays_utf8(tmp_path):
    path = tmp_path / "mostly_utf8.csv"
    path.write_bytes("name,city\n张伟,北京\n李娜,上海\n".encode("utf-8") + b"x,\xff\n")
    seen = fingerprint(path, inspect_text=True)
    assert (seen.encoding, seen.decodes_cleanly) == ("utf-8", False)
    transcode_to_utf8(path, tmp_path / "out.csv", seen.encoding)
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").endswith("李娜,上海\nx,\ufffd\n")


def test_unknown_and_private_files_are_not_loaded(warehouse, tmp_path):
    landing = tmp_path / "landing"
    (landing / "orders").mkdir(parents=True)
    (landing / "orders" / "notes.txt").write_text("hello")
    (landing / "orders" / "_partial.csv").write_text("order_id\nO9\n")
    (landing / "orders" / "ok.csv").write_text("order_id,customer_id,ordered_at,status\nO1,C1,2024-01-01,paid\n")
    result = load_landing_entity(warehouse, landing, ORDERS)
    assert result.unknown_files == ["orders/notes.txt"]
    assert [f.relative_path for f in result.files] == ["orders/ok.csv"]
    assert raw_count(warehouse, "orders") == 1


def test_entity_without_a_folder_gets_an_empty_raw_table_with_contract_columns(warehouse, tmp_path):
    result = load_landing_entity(warehouse, tmp_path / "nothing", ORDERS)
    assert result.rows_loaded == 0
    columns = [c for (c,) in warehouse.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'raw' AND table_name = 'orders' ORDER BY column_index"
    ).fetchall()]
    assert columns[: len(ORDERS.columns)] == list(ORDERS.columns)
    assert columns[len(ORDERS.columns):] == ["_source", "_source_file", "_loaded_at", "_row_number", "_load_id",
                                             "_parse_error", "_unparsed_line", "_key"]


def test_the_key_is_stored_trimmed_at_load_and_filled_in_for_older_tables(warehouse, tmp_path):
    landing = tmp_path / "landing"
    (landing / "customers").mkdir(parents=True)
    (landing / "customers" / "customers.csv").write_text(
        "customer_id,created_at\n  C1 ,2024-01-01\nC2,2024-01-01\n   ,2024-01-01\n", encoding="utf-8")
    load_landing_entity(warehouse, landing, CUSTOMERS)
    stored = warehouse.execute("SELECT customer_id, _key FROM raw.customers ORDER BY _row_number").fetchall()
    # Trimmed, and empty is NULL: what every key comparison (quality.rules.keys) reads.
    assert stored == [("  C1 ", "C1"), ("C2", "C2"), ("   ", None)]
    # A table from before the stored key: the next load gives it the column, filled in from the key.
    warehouse.execute("ALTER TABLE raw.customers DROP COLUMN _key")
    load_landing_entity(warehouse, landing, CUSTOMERS)
    assert warehouse.execute("SELECT customer_id, _key FROM raw.customers ORDER BY _row_number").fetchall() == stored
