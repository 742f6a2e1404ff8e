"""Idempotent table definitions run once per layout, not once per step.

The raw and quarantine tables, the manifest, the change log and their views
are created by idempotent statements (CREATE ... IF NOT EXISTS, ALTER ... ADD
COLUMN IF NOT EXISTS, CREATE OR REPLACE VIEW). Every step that reads them used
to run all of them first: about 110 statements, 0.15-0.3 s each time and about
twenty times a run, and each rewritten view is a catalog change the warehouse
checkpoints when the step closes it.

`ensure_layout` runs such a function only when the layout it creates is not
the one the warehouse last recorded for it (`raw._layout`). What the layout
is comes from the function itself: it is first run against `_Recorder`, which
executes nothing and keeps every statement with its parameters, and their hash
is the layout's fingerprint. A changed column list, a new lineage column, a
view defined otherwise or a new migration query changes a statement, hence the
fingerprint, and the next step runs the function for real. A function the
recorder cannot follow (it needs a real answer) simply runs every time.

The recorder answers every query with ones (a count of 1: "present"), so a
migration that probes the catalog records its probe, not its repair; the real
run does the repair where it is needed. A table dropped by hand while its
layout is recorded is not noticed: delete the warehouse's `raw._layout` rows
(or the file, `retention demo --fresh`) to have everything created again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import duckdb

LAYOUT_TABLE = "raw._layout"


class _Recorder:
    """A stand-in connection that keeps the statements it is given and runs none of them."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def execute(self, sql: str, parameters: Any = None) -> _Recorder:
        self.statements.append(json.dumps([sql, parameters], default=str))
        return self

    def fetchone(self) -> tuple[int, int]:
        # The migrations' catalog probes ask for (columns, columns present); another shape makes the
        # function fail here, and it then runs every time.
        return (1, 1)

    def fetchall(self) -> list[tuple[int, ...]]:
        return []


def layout_fingerprint(create: Callable[[Any], None]) -> str | None:
    """The hash of every statement `create` runs, or None when it cannot run without a real warehouse."""
    recorder = _Recorder()
    try:
        create(recorder)
    except Exception:  # noqa: BLE001 - a function the recorder cannot follow is run every time instead
        return None
    return hashlib.sha256("\n".join(recorder.statements).encode()).hexdigest()


def recorded_layout(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """The fingerprint the warehouse recorded for layout `name`, or None."""
    schema, table = LAYOUT_TABLE.split(".")
    (tables,) = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ?", [schema, table]).fetchone()
    if not tables:
        return None
    row = con.execute(f"SELECT fingerprint FROM {LAYOUT_TABLE} WHERE name = ?", [name]).fetchone()
    return row[0] if row else None


def ensure_layout(con: duckdb.DuckDBPyConnection, name: str, create: Callable[[Any], None]) -> None:
    """Run `create(con)` unless the warehouse holds the layout it creates already (see the module docstring)."""
    fingerprint = layout_fingerprint(create)
    if fingerprint is not None and recorded_layout(con, name) == fingerprint:
        return
    create(con)
    if fingerprint is not None:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {LAYOUT_TABLE.split('.')[0]}")
        con.execute(f"CREATE TABLE IF NOT EXISTS {LAYOUT_TABLE} (name VARCHAR PRIMARY KEY, fingerprint VARCHAR)")
        con.execute(f"INSERT OR REPLACE INTO {LAYOUT_TABLE} VALUES (?, ?)", [name, fingerprint])
