"""The quarantine brought up to date load by load equals a rebuild from all of raw, and logs the keys it touched.

Eight days of landing files, by hand: an orphan order whose customer arrives
the next day, an order file sent again with other content, lines arriving
after their order, a customer file version that drops a customer, a line
with a bad quantity, an order
whose only line leaves when its file is sent again. After each day the updated quarantine is compared with
a rebuild from the same raw rows, and the change log with the keys worked
out by hand.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.contract import ENTITIES
from ingestion.landing.loader import load_landing_entity
from ingestion.raw.changes import CHANGES_TABLE
from quality.quarantine import RULE_COLUMN, SCHEMA, ensure_quarantine_tables, rebuild_quarantine, update_quarantine

CUSTOMERS = ("customer_id,name,email,phone,company,industry,country,city,acquisition_channel,account_owner,"
             "created_at,updated_at\n")
ORDERS = "order_id,customer_id,ordered_at,status,currency,order_discount,order_total,sales_channel\n"
LINES = "order_id,line_number,product_id,product_category,quantity,unit_price,line_discount\n"


def customer(customer_id: str) -> str:
    return f"{customer_id},,,,,,CN,Shanghai,web,Ann,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z\n"


def order(order_id: str, customer_id: str, status: str = "completed", total: str = "10.00") -> str:
    return f"{order_id},{customer_id},2024-02-01T10:00:00Z,{status},CNY,0,{total},online\n"


# Day -> files written that day (path under the landing dir -> content). Expected change-log keys per entity.
DAYS: list[tuple[dict[str, str], dict[str, set[str | None]]]] = [
    ({"customers/c1.csv": CUSTOMERS + customer("C1") + customer("C2"),
      "orders/o1.csv": ORDERS + order("O1", "C1") + order("O2", "C9"),   # O2: customer C9 not known yet
      "order_items/i1.csv": LINES + "O1,1,P1,Tea,1,10.00,0\n"},
     {entity: {None} for entity in ENTITIES}),  # a first load: every key
    ({"customers/c2.csv": CUSTOMERS + customer("C9")},                     # C9 arrives: O2 is released
     {"customers": {"C9"}, "orders": {"O2"}}),
    ({"orders/o1.csv": ORDERS + order("O1", "C1", "refunded") + order("O2", "C9")
      + order("O3", "C2", total="")},                                      # sent again; O3 has no total, no line
     {"orders": {"O1", "O2", "O3"}}),
    ({"order_items/i2.csv": LINES + "O3,1,P1,Tea,2,4.00,0\n"},             # O3's line: its revenue is known
     {"order_items": {"O3"}, "orders": {"O3"}}),
    ({"customers/c1.csv": CUSTOMERS + customer("C1")},                     # C2 dropped: O3 and its line orphaned
     {"customers": {"C1", "C2"}, "orders": {"O3"}, "order_items": {"O3"}}),
    ({"order_items/i3.csv": LINES + "O1,2,P2,Tea,abc,1.00,0\n"},            # a quantity that is no number
     {"order_items": {"O1"}}),
    ({"orders/o4.csv": ORDERS + order("O4", "C1", total=""),               # an order known by its line only
      "order_items/i4.csv": LINES + "O4,1,P1,Tea,1,3.00,0\n"},
     {"orders": {"O4"}, "order_items": {"O4"}}),
    ({"order_items/i4.csv": LINES + "O1,3,P1,Tea,1,3.00,0\n"},             # sent again without O4's line
     {"order_items": {"O1", "O4"}, "orders": {"O4"}}),
]


def quarantined(con: duckdb.DuckDBPyConnection) -> dict[str, set[tuple]]:
    """Per entity: (file, row, rules) of every quarantined row."""
    return {name: set(con.execute(f"SELECT _source_file, _row_number, {RULE_COLUMN} FROM {SCHEMA}.{name}").fetchall())
            for name in ENTITIES}


def test_quarantine_updated_load_by_load_equals_a_rebuild(tmp_path: Path):
    landing = tmp_path / "landing"
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("SET TimeZone = 'UTC'")
    ensure_quarantine_tables(con)  # as the raw assets do before loading
    seen = []
    for day, (files, expected_changes) in enumerate(DAYS, start=1):
        for relative, text in files.items():
            (landing / relative).parent.mkdir(parents=True, exist_ok=True)
            (landing / relative).write_text(text, encoding="utf-8")
        for entity in ENTITIES.values():  # parents first, as the raw assets run
            load_landing_entity(con, landing, entity)
        (before,) = con.execute(f"SELECT coalesce(max(change_seq), 0) FROM {CHANGES_TABLE}").fetchone()
        for entity in ENTITIES.values():
            update_quarantine(con, entity)
        updated = quarantined(con)
        changes = con.execute(f"SELECT entity, key_value FROM {CHANGES_TABLE} WHERE change_seq > ?",
                              [before]).fetchall()
        logged: dict[str, set[str | None]] = {}
        for entity, key in changes:
            logged.setdefault(entity, set()).add(key)
        assert logged == expected_changes, f"day {day}"

        for entity in ENTITIES.values():
            rebuild_quarantine(con, entity)
        assert updated == quarantined(con), f"day {day}"
        seen.append(updated)
        # The rebuild said "every key"; the next day's update starts from the state it left, as after a full refresh.
        for entity in ENTITIES.values():
            update_quarantine(con, entity)
        assert quarantined(con) == updated

    # The story, day by day (rows are 1-based data rows of their file).
    assert ("orders/o1.csv", 2, "orders.customer_id_known") in seen[0]["orders"]
    assert not seen[1]["orders"]
    assert {r[:2] for r in seen[2]["orders"]} == {("orders/o1.csv", 3)}    # O3: neither lines nor a total
    assert not seen[3]["orders"]
    assert {r[2] for r in seen[4]["orders"]} == {"orders.customer_id_known"}
    assert {r[:2] + (r[2],) for r in seen[4]["order_items"]} == {("order_items/i2.csv", 1, "order_items.order_id_accepted")}
    assert ("order_items/i3.csv", 1) in {r[:2] for r in seen[5]["order_items"]}
    assert ("orders/o4.csv", 1) not in {r[:2] for r in seen[6]["orders"]}
    assert ("orders/o4.csv", 1, "orders.revenue_known") in seen[7]["orders"]
    con.close()
