"""The demo data generator: determinism, the source contract, consistency, statistical shape, defects.

The shape bounds are the ones the generator promises in its docstrings and the
issue asks for (about ten orders per customer, a large share of one-time
buyers, a few customers without orders, cancelled and refunded orders, pending
orders only in the last week); they are checked on the files by SQL written
here, independently of how the generator draws them.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingestion.contract import ENTITIES
from ingestion.demo import generate_demo_data
from ingestion.demo.defects import ENTITY_DEFECTS

END = date(2025, 12, 31)


def files_digest(landing: Path) -> dict[str, str]:
    """sha256 of every data file under the landing dir, by relative path."""
    return {
        str(p.relative_to(landing)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(landing.rglob("*")) if p.is_file() and not p.name.startswith("_")
    }


def reader(path_glob: Path) -> str:
    """The DuckDB table function reading files of one entity with every column as text or as written."""
    text = str(path_glob)
    if text.endswith(".csv"):
        return f"read_csv('{text}', all_varchar = true, header = true)"
    if text.endswith(".jsonl"):
        return f"read_json('{text}', format = 'newline_delimited')"
    return f"read_parquet('{text}')"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    """5,000 customers in the mixed layout, generated once for the module; yields (report, connection)."""
    landing = tmp_path_factory.mktemp("demo") / "landing"
    report = generate_demo_data(landing, customers=5000, seed=42, end_date=END)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for entity, fmt in report.parameters["formats"].items():
        suffix = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}[fmt]
        con.execute(f"CREATE VIEW {entity} AS SELECT * FROM {reader(landing / entity / f'*.{suffix}')}")
    yield report, con
    con.close()


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    """The single value a query returns."""
    return con.execute(sql).fetchone()[0]


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path):
    first = generate_demo_data(tmp_path / "a", customers=800, seed=7, end_date=END)
    second = generate_demo_data(tmp_path / "b", customers=800, seed=7, end_date=END)
    generate_demo_data(tmp_path / "c", customers=800, seed=8, end_date=END)
    assert files_digest(tmp_path / "a") == files_digest(tmp_path / "b")
    assert first.rows == second.rows
    assert files_digest(tmp_path / "a") != files_digest(tmp_path / "c")
    assert (tmp_path / "a" / "_demo_report.json").exists()


def test_files_hold_exactly_the_contract_columns_and_the_reported_rows(demo):
    report, con = demo
    for entity, spec in ENTITIES.items():
        columns = [row[0] for row in con.execute(f"DESCRIBE {entity}").fetchall()]
        assert columns == list(spec.columns), entity
        assert scalar(con, f"SELECT count(*) FROM {entity}") == report.rows[entity], entity
    # Parquet carries real types: timestamps with time zone and exact decimals.
    types = dict((row[0], row[1]) for row in con.execute("DESCRIBE orders").fetchall())
    assert types["ordered_at"] == "TIMESTAMP WITH TIME ZONE" and types["order_total"] == "DECIMAL(12,2)"


def test_keys_are_unique_and_every_reference_resolves(demo):
    _, con = demo
    assert scalar(con, "SELECT count(*) - count(DISTINCT order_id) FROM orders") == 0
    assert scalar(con, "SELECT count(*) - count(DISTINCT (order_id, line_number)) FROM order_items") == 0
    assert scalar(con, "SELECT count(*) - count(DISTINCT interaction_id) FROM interactions") == 0
    assert scalar(con, "SELECT count(*) - count(DISTINCT response_id) FROM survey_responses") == 0
    for child, column, parent in [("orders", "customer_id", "customers"), ("order_items", "order_id", "orders"),
                                  ("interactions", "customer_id", "customers"),
                                  ("survey_responses", "customer_id", "customers")]:
        orphans = scalar(con, f"SELECT count(*) FROM {child} WHERE {column} NOT IN (SELECT {column} FROM {parent})")
        assert orphans == 0, child
    assert scalar(con, "SELECT count(*) FROM order_items WHERE order_id NOT IN (SELECT order_id FROM orders)") == 0
    assert scalar(con, "SELECT count(*) FROM orders WHERE order_id NOT IN (SELECT order_id FROM order_items)") == 0


def test_order_total_is_lines_net_of_line_and_order_discounts(demo):
    _, con = demo
    mismatches = scalar(con, """
        SELECT count(*) FROM orders o
        JOIN (SELECT order_id, sum(quantity * unit_price - line_discount) AS lines_net
              FROM order_items GROUP BY order_id) l USING (order_id)
        WHERE o.order_total <> l.lines_net - o.order_discount
    """)
    assert mismatches == 0
    assert scalar(con, "SELECT count(*) FROM orders WHERE order_discount > 0") > 0
    assert scalar(con, "SELECT count(*) FROM order_items WHERE line_discount > 0") > 0
    assert scalar(con, "SELECT count(DISTINCT currency) FROM orders") == 1
    assert scalar(con, "SELECT min(order_total) FROM orders") >= 0


def test_purchase_behaviour_has_the_promised_shape(demo):
    _, con = demo
    customers = scalar(con, "SELECT count(DISTINCT customer_id) FROM customers")
    assert customers == 5000
    per_buyer = con.execute("""
        WITH n AS (SELECT customer_id, count(*) AS orders FROM orders GROUP BY customer_id)
        SELECT count(*), avg(orders), avg(CASE WHEN orders = 1 THEN 1.0 ELSE 0 END) FROM n
    """).fetchone()
    buyers, orders_per_buyer, one_time_share = per_buyer
    assert 0.01 <= 1 - buyers / customers <= 0.08  # some customers never order
    assert 7 <= orders_per_buyer <= 14  # about ten orders per customer
    assert 0.20 <= one_time_share <= 0.45  # many customers buy once and never return
    # About three years of history that end on the end date.
    first, last = con.execute("SELECT min(ordered_at)::DATE, max(ordered_at)::DATE FROM orders").fetchone()
    assert (END - first).days >= 3 * 365 - 10 and last == END


def test_statuses_discounts_and_pending_orders_are_realistic(demo):
    _, con = demo
    shares = dict(con.execute(
        "SELECT status, count(*) / sum(count(*)) OVER () FROM orders GROUP BY status").fetchall())
    assert 0.03 <= shares.get("cancelled", 0) + shares.get("void", 0) <= 0.08
    assert 0.01 <= shares.get("refunded", 0) + shares.get("returned", 0) <= 0.05
    assert shares.get("completed", 0) + shares.get("delivered", 0) >= 0.8
    oldest_pending = scalar(con, "SELECT min(ordered_at)::DATE FROM orders WHERE status = 'pending'")
    assert (END - oldest_pending).days < 7


def test_customers_have_older_versions_channels_industries_and_both_languages(demo):
    _, con = demo
    rows, distinct = con.execute("SELECT count(*), count(DISTINCT customer_id) FROM customers").fetchone()
    assert 0.01 <= (rows - distinct) / distinct <= 0.03  # ~2 % arrive twice, an older and a newer version
    # The newer version of a duplicated customer has the later updated_at.
    assert scalar(con, """
        SELECT count(*) FROM (SELECT customer_id, count(DISTINCT updated_at) AS versions
                              FROM customers GROUP BY customer_id HAVING count(*) > 1)
        WHERE versions < 2""") == 0
    assert scalar(con, "SELECT count(DISTINCT acquisition_channel) FROM customers") >= 4
    assert scalar(con, "SELECT count(DISTINCT industry) FROM customers") >= 5
    chinese = scalar(con, "SELECT avg(CASE WHEN regexp_matches(name, '[一-鿿]') THEN 1.0 ELSE 0 END) "
                          "FROM customers")
    assert 0.45 <= chinese <= 0.75
    assert scalar(con, "SELECT count(*) FROM customers WHERE updated_at < created_at") == 0


def test_churners_complain_more_and_score_lower(demo):
    """Customers whose last order lies over 180 days before the end are churners; the rest are active."""
    _, con = demo
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE churn AS
        SELECT customer_id, max(ordered_at) < TIMESTAMPTZ '{END.isoformat()} 00:00:00+00' - INTERVAL 180 DAY AS churned
        FROM orders GROUP BY customer_id HAVING count(*) >= 2
    """)
    nps = dict(con.execute("""
        SELECT churned, avg(score::INT) FROM survey_responses JOIN churn USING (customer_id)
        WHERE survey_type = 'nps' GROUP BY churned""").fetchall())
    assert nps[True] < nps[False] - 0.5
    complained = dict(con.execute("""
        SELECT churned, avg(CASE WHEN customer_id IN (SELECT customer_id FROM interactions
                                                      WHERE interaction_type = 'complaint') THEN 1.0 ELSE 0 END)
        FROM churn GROUP BY churned""").fetchall())
    assert complained[True] > complained[False]
    scores = con.execute("SELECT survey_type, min(score::INT), max(score::INT) FROM survey_responses "
                         "GROUP BY 1 ORDER BY 1").fetchall()
    assert scores == [("csat", 1, 5), ("nps", 0, 10)]


def test_gb18030_csv_decodes_to_the_same_text_as_utf8(tmp_path):
    generate_demo_data(tmp_path / "utf8", customers=300, seed=3, end_date=END, file_format="csv")
    generate_demo_data(tmp_path / "gb", customers=300, seed=3, end_date=END, file_format="csv",
                       csv_encoding="gb18030")
    utf8 = (tmp_path / "utf8" / "customers" / "customers_0001.csv").read_bytes()
    gb = (tmp_path / "gb" / "customers" / "customers_0001.csv").read_bytes()
    assert gb != utf8
    with pytest.raises(UnicodeDecodeError):
        gb.decode("utf-8")
    assert gb.decode("gb18030") == utf8.decode("utf-8")


def test_files_per_entity_splits_rows_without_losing_any(tmp_path):
    report = generate_demo_data(tmp_path, customers=500, seed=1, end_date=END, files_per_entity=3)
    orders = sorted((tmp_path / "orders").glob("*.parquet"))
    assert [p.name for p in orders] == ["orders_0001.parquet", "orders_0002.parquet", "orders_0003.parquet"]
    counts = [duckdb.execute(f"SELECT count(*) FROM '{p}'").fetchone()[0] for p in orders]
    assert sum(counts) == report.rows["orders"] and max(counts) - min(counts) <= 1
    # A second run with one file per entity removes the three old files.
    generate_demo_data(tmp_path, customers=500, seed=1, end_date=END)
    assert [p.name for p in (tmp_path / "orders").glob("*.parquet")] == ["orders_0001.parquet"]


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory):
    """2,000 customers with 5 % defective rows per entity (all CSV, read as text); yields (report, connection)."""
    landing = tmp_path_factory.mktemp("defects") / "landing"
    clean = generate_demo_data(landing.parent / "clean", customers=2000, seed=5, end_date=END)
    report = generate_demo_data(landing, customers=2000, seed=5, end_date=END, defect_rate=0.05)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for entity in ENTITIES:
        con.execute(f"CREATE VIEW {entity} AS SELECT * FROM {reader(landing / entity / '*.csv')}")
    yield clean, report, con
    con.close()


def test_defect_counts_add_up_and_match_the_rate(defective):
    clean, report, _ = defective
    for entity, spec in ENTITY_DEFECTS.items():
        counts = report.defects[entity]
        assert set(counts) == set(spec.kinds)
        assert sum(counts.values()) == int(0.05 * clean.rows[entity]), entity
        added = sum(n for kind, n in counts.items() if kind in ("duplicate_id", "exact_duplicate", "missing_key"))
        assert report.rows[entity] == clean.rows[entity] + added, entity


def test_each_defect_kind_can_be_counted_back_from_the_files(defective):
    _, report, con = defective
    end = f"TIMESTAMPTZ '{END.isoformat()} 23:59:59+00'"
    found = {
        ("orders", "bad_timestamp"): "SELECT count(*) FROM orders WHERE try_cast(ordered_at AS TIMESTAMPTZ) IS NULL",
        ("orders", "future_timestamp"): f"SELECT count(*) FROM orders WHERE try_cast(ordered_at AS TIMESTAMPTZ) > {end}",
        ("orders", "negative_amount"):
            "SELECT count(*) FROM orders WHERE try_cast(order_discount AS DECIMAL(12,2)) < 0",
        ("orders", "wrong_type"):
            "SELECT count(*) FROM orders WHERE order_discount IS NOT NULL "
            "AND try_cast(order_discount AS DECIMAL(12,2)) IS NULL",
        ("orders", "missing_key"): "SELECT count(*) FROM orders WHERE order_id IS NULL",
        ("orders", "orphan_customer"):
            "SELECT count(*) FROM orders WHERE customer_id NOT IN (SELECT customer_id FROM customers "
            "WHERE customer_id IS NOT NULL)",
        # A table name in an expression is the whole row, so count(DISTINCT o) counts distinct rows.
        ("orders", "exact_duplicate"): "SELECT count(*) - count(DISTINCT o) FROM orders o",
        ("orders", "duplicate_id"):
            "SELECT count(order_id) - count(DISTINCT order_id) - (SELECT count(*) - count(DISTINCT o) FROM orders o) "
            "FROM orders",
        ("survey_responses", "out_of_scale_score"):
            "SELECT count(*) FROM survey_responses WHERE (survey_type = 'nps' AND try_cast(score AS INT) > 10) "
            "OR (survey_type = 'csat' AND try_cast(score AS INT) NOT BETWEEN 1 AND 5)",
        ("survey_responses", "wrong_type"):
            "SELECT count(*) FROM survey_responses WHERE try_cast(score AS INT) IS NULL",
        ("order_items", "negative_amount"):
            "SELECT count(*) FROM order_items WHERE try_cast(quantity AS INT) < 0 "
            "OR try_cast(unit_price AS DECIMAL(12,2)) < 0",
        ("order_items", "orphan_order"):
            "SELECT count(*) FROM order_items WHERE order_id NOT IN (SELECT order_id FROM orders "
            "WHERE order_id IS NOT NULL)",
        ("interactions", "bad_timestamp"):
            "SELECT count(*) FROM interactions WHERE try_cast(occurred_at AS TIMESTAMPTZ) IS NULL",
        ("customers", "missing_key"): "SELECT count(*) FROM customers WHERE customer_id IS NULL",
    }
    for (entity, kind), sql in found.items():
        assert scalar(con, sql) == report.defects[entity][kind], (entity, kind)
        assert report.defects[entity][kind] >= 1, (entity, kind)


@pytest.mark.parametrize("arguments, message", [
    ({"customers": 0}, "customers must be"),
    ({"defect_rate": 0.5}, "defect_rate must be"),
    ({"csv_encoding": "latin-1"}, "csv_encoding must be"),
    ({"file_format": "xlsx"}, "file_format must be"),
    ({"files_per_entity": 0}, "files_per_entity must be"),
])
def test_invalid_arguments_are_refused_with_a_clear_message(tmp_path, arguments, message):
    with pytest.raises(ValueError, match=message):
        generate_demo_data(tmp_path, **{"customers": 10, **arguments})


def test_next_day_copies_sampled_orders_onto_the_day_after_the_latest(tmp_path):
    from ingestion.demo.next_day import write_next_day

    landing = tmp_path / "landing"
    generate_demo_data(landing, customers=300, seed=3, end_date=END)
    shutil.copytree(landing, tmp_path / "copy")
    orders = f"read_parquet('{landing}/orders/orders_0001.parquet')"
    lines = f"read_parquet('{landing}/order_items/order_items_0001.parquet')"
    with duckdb.connect() as con:
        (order_count,) = con.execute(f"SELECT count(*) FROM {orders}").fetchone()
    day = write_next_day(landing, share=0.01, seed=5)

    new_orders = round(order_count * 0.01)
    assert day.day == date(2026, 1, 1)
    assert day.rows["orders"] == new_orders and day.rows["survey_responses"] == new_orders // 10
    # One customer version per hundred new orders (at least one): the first sampled orders' customers.
    assert 1 <= day.rows["customers"] <= max(1, new_orders // 100)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        day_orders = f"read_parquet('{landing}/orders/day_2026-01-01.parquet')"
        day_lines = f"read_parquet('{landing}/order_items/day_2026-01-01.parquet')"
        # Every new order lies on the new day, is new, and names an existing customer.
        assert con.execute(f"SELECT min(ordered_at)::DATE, max(ordered_at)::DATE, count(DISTINCT order_id) "
                           f"FROM {day_orders}").fetchone() == (date(2026, 1, 1), date(2026, 1, 1), new_orders)
        assert con.execute(f"SELECT count(*) FROM {day_orders} WHERE order_id IN (SELECT order_id FROM {orders})"
                           ).fetchone() == (0,)
        # The lines are the sampled orders' lines: as many per new order as its source order has, all of them.
        (expected_lines,) = con.execute(
            f"SELECT count(*) FROM {lines} WHERE order_id IN (SELECT order_id FROM {orders} WHERE status IN "
            f"('completed', 'delivered', 'paid', 'shipped') ORDER BY hash(order_id, 5) LIMIT {new_orders})").fetchone()
        assert day.rows["order_items"] == expected_lines
        assert con.execute(f"SELECT count(*) FROM {day_lines} WHERE order_id NOT IN (SELECT order_id FROM {day_orders})"
                           ).fetchone() == (0,)
        # The customer versions are new versions of customers who ordered that day.
        versions = f"read_csv('{landing}/customers/day_2026-01-01.csv', all_varchar = true)"
        assert con.execute(f"SELECT DISTINCT updated_at FROM {versions}").fetchall() == [("2026-01-01T12:00:00Z",)]
        assert con.execute(f"SELECT count(*) FROM {versions} WHERE customer_id NOT IN "
                           f"(SELECT customer_id FROM {day_orders})").fetchone() == (0,)
    # Same files, same share and seed: the same day.
    again = write_next_day(tmp_path / "copy", share=0.01, seed=5)
    assert [path.read_bytes() for path in again.files] == [path.read_bytes() for path in day.files]
