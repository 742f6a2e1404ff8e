"""The quarantine brought up to date load by load equals a rebuild from all of raw, and logs the keys it touched.

Ten days of landing files by hand (tests/incremental_days.py). After each
day the updated quarantine is compared with a rebuild from the same raw
rows, and the change log with the keys worked out by hand.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.contract import ENTITIES
from ingestion.landing.loader import load_landing_entity
from ingestion.raw.changes import CHANGES_TABLE
from quality.quarantine import RULE_COLUMN, SCHEMA, ensure_quarantine_tables, rebuild_quarantine, update_quarantine
from tests.incremental_days import DAYS, write_day


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
        write_day(landing, files)
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
