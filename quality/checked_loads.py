"""Which loads a row-level check has examined, so that each run checks only the rows new to it.

The raw rules judge one row at a time (or the rows of one file), so a load
that was checked once with today's rules needs no second look: the rows of
an earlier load cannot change. A check asks for the current loads it has not
examined with these rules (`unchecked_loads`), validates only their rows
(`loads_query`) and records them afterwards (`mark_checked`). New rules
(another fingerprint) or `--full-refresh` examine every current load again.
Whatever stays set aside from earlier loads is in the quarantine, which is
brought up to date every run, and its bad-share check covers all of it.
"""

from __future__ import annotations

import duckdb

from ingestion.contract import Entity
from ingestion.raw.manifest import CURRENT_LOADS_VIEW

CHECKED_LOADS_TABLE = "quality._checked_loads"


def ensure_checked_loads(con: duckdb.DuckDBPyConnection) -> None:
    """Create the table of examined loads if missing."""
    con.execute("CREATE SCHEMA IF NOT EXISTS quality")
    con.execute(f"CREATE TABLE IF NOT EXISTS {CHECKED_LOADS_TABLE} "
                "(check_name VARCHAR NOT NULL, load_id VARCHAR NOT NULL, rules_fingerprint VARCHAR NOT NULL)")


def unchecked_loads(con: duckdb.DuckDBPyConnection, check_name: str, entity: Entity, fingerprint: str,
                    everything: bool = False) -> list[str]:
    """The entity's current loads that `check_name` has not examined with the rules of `fingerprint`.

    With `everything`, all of them. Sorted, so that the query is the same for the same loads.
    """
    ensure_checked_loads(con)
    seen = "" if everything else (
        f" AND load_id NOT IN (SELECT load_id FROM {CHECKED_LOADS_TABLE} "
        "WHERE check_name = $check AND rules_fingerprint = $fingerprint)")
    parameters = {"entity": entity.name} | ({} if everything else {"check": check_name, "fingerprint": fingerprint})
    rows = con.execute(f"SELECT load_id FROM {CURRENT_LOADS_VIEW} WHERE entity = $entity{seen} ORDER BY load_id",
                       parameters).fetchall()
    return [load_id for (load_id,) in rows]


def loads_query(entity: Entity, load_ids: list[str]) -> str:
    """SQL: the current raw rows of these loads (none when the list is empty)."""
    quoted = ", ".join("'" + load_id.replace("'", "''") + "'" for load_id in load_ids) or "NULL"
    return f"SELECT * FROM {entity.current_raw_table} WHERE _load_id IN ({quoted})"


def mark_checked(con: duckdb.DuckDBPyConnection, check_name: str, fingerprint: str, load_ids: list[str]) -> None:
    """Record that `check_name` examined these loads with the rules of `fingerprint`."""
    ensure_checked_loads(con)
    # Loads a newer file version replaced (or `retention forget` removed) need no record any more.
    con.execute(f"DELETE FROM {CHECKED_LOADS_TABLE} WHERE check_name = ? AND (load_id IN "
                f"(SELECT unnest(?::VARCHAR[])) OR load_id NOT IN (SELECT load_id FROM {CURRENT_LOADS_VIEW}))",
                [check_name, load_ids])
    con.execute(f"INSERT INTO {CHECKED_LOADS_TABLE} SELECT ?, unnest(?::VARCHAR[]), ?",
                [check_name, load_ids, fingerprint])
