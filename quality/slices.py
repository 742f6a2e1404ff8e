"""The rows a check has not examined yet: the slice of a table that each run checks.

Row-level rules need no second look at rows that have not changed since
they passed. A check asks its slice for the rows new to it (`Slice.rows`),
validates only those, and tells the slice when it is done (`Slice.examined`;
a blocking check only once it has passed, so that failing rows are examined
again next time). New rules or new definitions (another fingerprint) and
`--full-refresh` examine the whole table.

- `NewLoads`: a load examined once is not examined again
  (`quality._checked_loads`). Most raw rules judge a row by itself and its
  file: their verdicts were kept when the load was committed
  (quality/verdicts.py), and the check reads them (brought up to date first); the
  few whose verdict can change later (a reference whose parent arrives or
  leaves, a timestamp no longer in the future) are judged again every run by
  the quarantine, whose bad-share check covers all of it: this check reports
  what each load brought when it arrived.
- `ChangedKeys`: the staging rules (one row per key, references that
  resolve, one currency) can only break for keys the change log
  (ingestion/raw/changes.py) names since the check last passed, and for rows
  whose parent key it names (a customer that left staging); the check reads
  the log as one more reader, with its own watermark.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ingestion.contract import ENTITIES, Entity
from ingestion.raw.changes import (
    built_fingerprint,
    changed_rows_query,
    consumed_change_seq,
    every_key_changed_since,
    mark_changes_consumed,
    remember_fingerprint,
)
from ingestion.raw.manifest import CURRENT_LOADS_VIEW
from quality.quarantine import JUDGED_LOADS_TABLE as QUARANTINE_JUDGED_LOADS
from quality.quarantine import ensure_quarantine_tables
from quality.rules.raw import sql_list
from quality.rules.staging import staging_relation
from quality.verdicts import ensure_verdicts

CHECKED_LOADS_TABLE = "quality._checked_loads"


@dataclass(frozen=True)
class SliceRows:
    """What a check examines this run: the rows' query (None: the whole relation) and how many there are."""

    query: str | None
    rows: int
    described: dict[str, int]
    loads: tuple[str, ...] = ()  # NewLoads: the loads the rows belong to


class NewLoads:
    """The rows of the current loads of an entity that the quarantine has judged and the check has not
    examined with these rules (whose kept verdicts, quality/verdicts.py, are brought up to date first).

    A load the quarantine has not judged yet (the raw asset and its check run
    without the quarantine) waits: the check reports the quarantine's verdicts
    on references, and would otherwise mark the load examined without them.
    """

    def __init__(self, entity: Entity) -> None:
        self.entity = entity

    def rows(self, con: duckdb.DuckDBPyConnection, check_name: str, fingerprint: str, everything: bool) -> SliceRows:
        """The rows of the loads to examine (all current loads with `everything`)."""
        ensure_checked_loads(con)
        ensure_quarantine_tables(con)
        ensure_verdicts(con, self.entity)
        seen = "" if everything else (
            f" AND load_id NOT IN (SELECT load_id FROM {CHECKED_LOADS_TABLE} "
            "WHERE check_name = $check AND rules_fingerprint = $fingerprint)")
        parameters = {"entity": self.entity.name} | ({} if everything else {"check": check_name,
                                                                              "fingerprint": fingerprint})
        loads = tuple(load_id for (load_id,) in con.execute(
            f"SELECT load_id FROM {CURRENT_LOADS_VIEW} WHERE entity = $entity AND load_id IN "
            f"(SELECT load_id FROM {QUARANTINE_JUDGED_LOADS} WHERE entity = $entity){seen} ORDER BY load_id",
            parameters).fetchall())
        quoted = sql_list(loads) or "NULL"
        query = f"SELECT * FROM {self.entity.current_raw_table} WHERE _load_id IN ({quoted})"
        (rows,) = con.execute(f"SELECT count(*) FROM ({query}) AS new_rows").fetchone()
        return SliceRows(query, rows, {"loads examined": len(loads), "rows examined": rows}, loads)

    def examined(self, con: duckdb.DuckDBPyConnection, check_name: str, fingerprint: str, new: SliceRows) -> None:
        """Record the loads of `new` (what `rows` returned) as examined with these rules."""
        ensure_checked_loads(con)
        # Loads a newer file version replaced (or `retention forget` removed) need no record any more.
        con.execute(f"DELETE FROM {CHECKED_LOADS_TABLE} WHERE check_name = ? AND (load_id IN "
                    f"(SELECT unnest(?::VARCHAR[])) OR load_id NOT IN (SELECT load_id FROM {CURRENT_LOADS_VIEW}))",
                    [check_name, list(new.loads)])
        con.execute(f"INSERT INTO {CHECKED_LOADS_TABLE} SELECT ?, unnest(?::VARCHAR[]), ?",
                    [check_name, list(new.loads), fingerprint])


def ensure_checked_loads(con: duckdb.DuckDBPyConnection) -> None:
    """Create the table of examined loads if missing."""
    con.execute("CREATE SCHEMA IF NOT EXISTS quality")
    con.execute(f"CREATE TABLE IF NOT EXISTS {CHECKED_LOADS_TABLE} "
                "(check_name VARCHAR NOT NULL, load_id VARCHAR NOT NULL, rules_fingerprint VARCHAR NOT NULL)")


class ChangedKeys:
    """The rows of an entity's staging model whose key, or whose parent's key, changed since the check passed.

    `built_by`: the dbt step that builds the model; new definitions there (a
    full refresh rewrote every row) mean examining the whole model.
    """

    def __init__(self, entity: Entity, relation: str, built_by: str) -> None:
        self.entity, self.relation, self.built_by = entity, relation, built_by

    def _reader(self, check_name: str) -> str:
        return f"check {check_name} {self.relation}"

    def _fingerprint(self, con: duckdb.DuckDBPyConnection, fingerprint: str) -> str:
        return f"{fingerprint} {built_fingerprint(con, self.built_by)}"

    def rows(self, con: duckdb.DuckDBPyConnection, check_name: str, fingerprint: str, everything: bool) -> SliceRows:
        """The rows to examine: None (the whole model) on a first check, new definitions or `everything`."""
        remembered = built_fingerprint(con, self._reader(check_name))  # creates the change log if missing
        since = consumed_change_seq(con, self._reader(check_name))
        touched = [(self.entity.key_columns[0], self.entity.name),
                   *((column, parent) for column, parent in self.entity.references)]
        every_key = everything or remembered != self._fingerprint(con, fingerprint) or any(
            every_key_changed_since(con, entity, since) for _, entity in touched)
        if every_key:
            (rows,) = con.execute(f"SELECT count(*) FROM {self.relation}").fetchone()
            return SliceRows(None, rows, {"rows examined": rows})
        # Of a parent, only keys gone from its staging model can break a reference to it.
        present = {parent: f"SELECT {ENTITIES[parent].key_columns[0]} FROM {staging_relation(ENTITIES[parent])}"
                   for _, parent in self.entity.references}
        query = changed_rows_query(self.relation, touched, since, present)
        (rows,) = con.execute(f"SELECT count(*) FROM ({query}) AS changed_rows").fetchone()
        return SliceRows(query, rows, {"rows examined": rows})

    def examined(self, con: duckdb.DuckDBPyConnection, check_name: str, fingerprint: str, new: SliceRows) -> None:
        """Move the check's watermark past every change so far that the staging models (its own and its
        parents') have applied (call only once the check passed)."""
        models = (self.relation, *(staging_relation(ENTITIES[parent]) for _, parent in self.entity.references))
        mark_changes_consumed(con, self._reader(check_name),
                              applied_by=tuple(model.split(".")[-1] for model in models))
        remember_fingerprint(con, self._reader(check_name), self._fingerprint(con, fingerprint))


Slice = NewLoads | ChangedKeys
