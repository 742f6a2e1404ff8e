"""Table definitions run once per layout: skipped while the layout is the one recorded, run again when it changes."""

from __future__ import annotations

import duckdb

import ingestion.raw.tables as tables
from ingestion.contract import ENTITIES
from ingestion.raw.layout import LAYOUT_TABLE, ensure_layout
from quality.quarantine import OWN_DEFECT_COLUMN, REASON_COLUMN, RULE_COLUMN, ensure_quarantine_tables


def columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    return [row[0] for row in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, table]).fetchall()]


def views(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute(
        "SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE NOT internal").fetchall()}


def test_the_tables_are_defined_once_until_their_layout_changes(warehouse, monkeypatch):
    ensure_quarantine_tables(warehouse)
    created = views(warehouse)
    assert {"raw.orders__current", "raw._current_loads"} <= created
    assert columns(warehouse, "quarantine", "orders")[-3:] == [RULE_COLUMN, REASON_COLUMN, OWN_DEFECT_COLUMN]

    # Recorded: the next call runs no definition (a view dropped behind its back stays dropped) ...
    warehouse.execute("DROP VIEW raw.orders__current")
    ensure_quarantine_tables(warehouse)
    assert views(warehouse) == created - {"raw.orders__current"}
    # ... until the record is gone (a warehouse from before the record, or cleared by hand).
    warehouse.execute(f"DELETE FROM {LAYOUT_TABLE}")
    ensure_quarantine_tables(warehouse)
    assert views(warehouse) == created

    # A new lineage column changes a statement, hence the layout: every raw table gets it.
    monkeypatch.setitem(tables.LINEAGE_COLUMNS, "_probe_column", "VARCHAR")
    ensure_quarantine_tables(warehouse)
    for entity in ENTITIES.values():
        assert "_probe_column" in columns(warehouse, "raw", entity.name)
    assert len(warehouse.execute(f"SELECT * FROM {LAYOUT_TABLE}").fetchall()) == 1


def test_a_definition_the_recorder_cannot_follow_runs_every_time(warehouse):
    runs: list[int] = []

    def create(con) -> None:
        # Three values: the recorder answers (1, 1), so this function cannot be fingerprinted.
        first, second, third = con.execute("SELECT 1, 2, 3").fetchone()
        runs.append(first + second + third)

    ensure_layout(warehouse, "probe", create)
    ensure_layout(warehouse, "probe", create)
    assert runs == [6, 6]
    (recorded,) = warehouse.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = '_layout'").fetchone()
    assert recorded == 0
