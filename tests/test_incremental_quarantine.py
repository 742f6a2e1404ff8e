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


def test_editing_a_line_rule_judges_the_orders_again(monkeypatch):
    # An order's rule revenue_known reads its lines' kept verdicts: a new line rule must change the orders'
    # fingerprint (and so rebuild their quarantine), or an order whose only line the new rule rejects stays.
    from dataclasses import replace

    from quality import quarantine
    from quality.rules import raw

    before = quarantine.rules_fingerprint(ENTITIES["orders"])
    line_rules = raw.load_rules
    monkeypatch.setattr(raw, "load_rules", lambda entity: [
        replace(rule, predicate=rule.predicate.replace("999999.999", "99.999"))
        if rule.name == "order_items.quantity_not_too_large" else rule for rule in line_rules(entity)])
    assert quarantine.rules_fingerprint(ENTITIES["orders"]) != before


def test_new_status_words_judge_the_orders_loads_again():
    # orders.status_mapped reads the status words of the sources file: new words make the kept verdicts stale.
    from ingestion.raw.tables import SOURCE_STATUSES_TABLE
    from quality.verdicts import verdict_fingerprint

    con = duckdb.connect()
    ensure_quarantine_tables(con)
    orders, customers = ENTITIES["orders"], ENTITIES["customers"]
    before = verdict_fingerprint(con, orders), verdict_fingerprint(con, customers)
    con.execute(f"INSERT INTO {SOURCE_STATUSES_TABLE} VALUES ('exports/shop.csv', 'teleported', 'completed')")
    assert verdict_fingerprint(con, orders) != before[0]
    assert verdict_fingerprint(con, customers) == before[1]  # no customer rule reads them
