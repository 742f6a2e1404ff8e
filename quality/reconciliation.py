"""Reconciliation: every row received ends in staging, in quarantine, or is a counted duplicate.

For each entity, per run:

    received = staged + quarantined + exact duplicates + superseded versions
               + rows of earlier file versions

- received: rows in raw (every load, every file version);
- rows of earlier file versions: rows of a landing file's earlier versions,
  replaced by its latest one (raw keeps them; nothing reads them);
- quarantined: rows in quarantine.<entity>;
- exact duplicates: accepted rows identical (in every contract column) to
  another accepted row with the same key: the same line sent twice, or an
  unchanged row of a file's new version;
- superseded versions: other accepted versions of a key that a later one
  replaced (latest updated_at for customers, latest load otherwise);
- staged: rows of the staging model.

The right-hand terms are counted independently (from raw and quarantine, by
key and content, and from the staging table), so the equation fails when
staging loses or invents rows. The counts from raw are kept per key in
`quality._reconciliation_keys` and redone each run only for the keys the
change log names (the accepted rows of any other key cannot have changed),
so a daily run does not hash every row of history again. The counts of
every run are appended to `quality.reconciliation`.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ingestion.contract import Entity
from ingestion.raw.changes import (
    changed_keys_since,
    consumed_change_seq,
    ensure_change_log,
    every_key_changed_since,
    mark_changes_consumed,
)
from ingestion.raw.tables import KEY_COLUMN
from quality.quarantine import quarantine_table
from quality.rules.raw import typed_value
from quality.rules.staging import staging_relation

SCHEMA = "quality"
TABLE = f"{SCHEMA}.reconciliation"
# Per entity and key: its accepted rows, distinct versions and distinct full keys, kept up to date by key.
KEY_COUNTS_TABLE = f"{SCHEMA}._reconciliation_keys"


@dataclass(frozen=True)
class Reconciliation:
    """One entity's counts in one run."""

    entity: str
    received: int
    staged: int
    quarantined: int
    exact_duplicates: int
    superseded: int
    earlier_file_versions: int = 0

    @property
    def accounted(self) -> int:
        """staged + quarantined + exact duplicates + superseded versions + rows of earlier file versions."""
        return self.staged + self.quarantined + self.exact_duplicates + self.superseded + self.earlier_file_versions

    @property
    def balances(self) -> bool:
        """Whether every received row is accounted for, exactly once."""
        return self.received == self.accounted

    def describe(self) -> str:
        """E.g. `orders: received 1,000 = staged 990 + quarantined 8 + exact duplicates 2 + superseded 0`."""
        verdict = "" if self.balances else f"; {self.received - self.accounted:+,} rows unaccounted for"
        return (f"{self.entity}: received {self.received:,} {'=' if self.balances else '<>'} staged {self.staged:,} "
                f"+ quarantined {self.quarantined:,} + exact duplicates {self.exact_duplicates:,} "
                f"+ superseded {self.superseded:,} + earlier file versions {self.earlier_file_versions:,}{verdict}")


def _staging_key(entity: Entity, column: str) -> str:
    """A key column as staging types it (a line number is an integer there), from the contract."""
    kind = entity.spec(column).type
    return f"trim(accepted.{column})" if kind.kind == "text" else typed_value(f"accepted.{column}", kind.sql)


def reconcile(con: duckdb.DuckDBPyConnection, entity: Entity, recount: bool = False) -> Reconciliation:
    """Count the entity's rows in raw, quarantine and staging (the accepted rows per key kept up to date;
    every key counted anew with `recount`, as `retention run --full-refresh` does)."""
    update_key_counts(con, entity, every_key=recount)
    received, current, quarantined, accepted_rows, versions, distinct_keys = con.execute(f"""
        SELECT
            (SELECT count(*) FROM {entity.raw_table}),
            (SELECT count(*) FROM {entity.current_raw_table}),
            (SELECT count(*) FROM {quarantine_table(entity)}),
            coalesce(sum(accepted_rows), 0), coalesce(sum(versions), 0), coalesce(sum(distinct_keys), 0)
        FROM {KEY_COUNTS_TABLE} WHERE entity = ?
    """, [entity.name]).fetchone()
    staged = con.execute(f"SELECT count(*) FROM {staging_relation(entity)}").fetchone()[0]
    return Reconciliation(entity.name, received, staged, quarantined, exact_duplicates=accepted_rows - versions,
                          superseded=versions - distinct_keys, earlier_file_versions=received - current)


def key_counts_query(entity: Entity, changed_keys: str | None) -> str:
    """SQL: per key (the change log's key), its accepted rows, distinct versions and distinct full keys.

    `changed_keys`: SQL yielding the keys to count (None: every key).
    """
    first = f"accepted.{KEY_COLUMN}"
    keys = ", ".join(_staging_key(entity, c) for c in entity.key_columns)
    # A version is told apart by the hash of its content: grouping by one number instead of every column
    # (a third faster at eighteen million lines). Two versions of one full key would have to share a
    # 64-bit hash to be counted as one, and even then only the split between exact duplicates and
    # superseded versions would move: their sum, and so the balance, does not depend on it.
    content = "hash(row(" + ", ".join(f"accepted.{c}" for c in entity.columns) + "))"
    only = f"WHERE {first} IN ({changed_keys})" if changed_keys is not None else ""
    # Three plain groupings (rows per version, versions per full key, full keys per key) rather than
    # count(DISTINCT ...) per key: the same counts, and DuckDB hashes each row once instead of keeping a
    # set of distinct values per key (README, Where the time goes).
    return f"""
        SELECT '{entity.name}' AS entity, key_value, sum(key_rows) AS accepted_rows,
               sum(key_versions) AS versions, count(*) AS distinct_keys
        FROM (
            SELECT key_value, full_key, sum(version_rows) AS key_rows, count(*) AS key_versions
            FROM (
                SELECT {first} AS key_value, row({keys}) AS full_key, {content} AS version,
                       count(*) AS version_rows
                FROM {entity.current_raw_table} AS accepted
                ANTI JOIN {quarantine_table(entity)} AS rejected
                    ON rejected._load_id = accepted._load_id AND rejected._row_number = accepted._row_number
                {only}
                GROUP BY ALL
            ) AS by_version
            GROUP BY ALL
        ) AS by_full_key
        GROUP BY ALL
    """


def update_key_counts(con: duckdb.DuckDBPyConnection, entity: Entity, every_key: bool = False) -> None:
    """Bring the entity's per-key counts up to date: the keys the change log names since the last update.

    Accepted rows of a key change only through what the change log records
    (a new load, a replaced file version, a row entering or leaving
    quarantine), so the counts of the other keys stand. Every key is counted
    anew on the first update, after a change of every key (a NULL key in
    the log) and with `every_key`: a full refresh checks the kept counts
    against history, not only against the change log. The counts and the
    reader's watermark commit together.
    """
    reader = f"reconciliation {entity.name}"
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {KEY_COUNTS_TABLE} (entity VARCHAR, key_value VARCHAR, "
                "accepted_rows BIGINT, versions BIGINT, distinct_keys BIGINT)")
    ensure_change_log(con)
    since = consumed_change_seq(con, reader)
    changed = (None if every_key or every_key_changed_since(con, entity.name, since)
               else changed_keys_since(entity.name, since))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM {KEY_COUNTS_TABLE} WHERE entity = ?"
                    + ("" if changed is None else f" AND key_value IN ({changed})"), [entity.name])
        con.execute(f"INSERT INTO {KEY_COUNTS_TABLE} {key_counts_query(entity, changed)}")
        mark_changes_consumed(con, reader)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def record(con: duckdb.DuckDBPyConnection, run_id: str, counts: Reconciliation) -> None:
    """Append one entity's counts of this run to quality.reconciliation (replacing a re-check of the same run)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.execute(f"""
        CREATE TABLE IF NOT EXISTS {TABLE} (
            run_id VARCHAR, entity VARCHAR, checked_at TIMESTAMP, received BIGINT, staged BIGINT,
            quarantined BIGINT, exact_duplicates BIGINT, superseded BIGINT, balances BOOLEAN)
    """)
    # Added after the first release: a table from then gets the column (0 for its old runs).
    con.execute(f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS earlier_file_versions BIGINT DEFAULT 0")
    con.execute(f"DELETE FROM {TABLE} WHERE run_id = ? AND entity = ?", [run_id, counts.entity])
    con.execute(
        f"INSERT INTO {TABLE} BY NAME SELECT ? AS run_id, ? AS entity, now()::TIMESTAMP AS checked_at, ? AS received, "
        "? AS staged, ? AS quarantined, ? AS exact_duplicates, ? AS superseded, ? AS balances, "
        "? AS earlier_file_versions",
        [run_id, counts.entity, counts.received, counts.staged, counts.quarantined, counts.exact_duplicates,
         counts.superseded, counts.balances, counts.earlier_file_versions],
    )
