"""The change log: which entity keys a run touched, so that the layers after raw redo only those.

Every quarantine update (quality/quarantine.py) appends, under one new
`change_seq`, the keys whose accepted rows may differ from what staging
holds: keys of rows a new load brought, of rows whose load was replaced by a
newer version of its file, and of rows that entered or left quarantine. A
NULL key means "every key of the entity" (a first load, a rule change, a
forgotten file): its readers rebuild the entity whole.

The key of an entity is its first key column as the raw rules compare it
(trimmed, empty = NULL), which raw keeps beside each row at load (`_key`,
ingestion/raw/tables.py): an order line's change is logged under its order.
One entry is not a raw entity: `order_customers`, the customers whose orders
int_order_amounts redid (before and after), logged by that model's hooks for
the customer-level models (macros/changed_customers.sql).

Readers remember the last `change_seq` they consumed in
`raw._consumed_changes` and read only later batches; batches that every
reader has consumed are pruned. The readers: each entity's quarantine
(which reads its parents' changes), the incremental dbt models
(macros/changed_keys.sql: the staging models, int_order_amounts and the
customer-level models, named by their table), the staging checks (`check staging_rules <model>`,
quality/slices.py) and the reconciliation (`reconciliation <entity>`).
Readers of tables another reader keeps up to date consume at most what that
one has (`mark_changes_consumed(applied_by=...)`).

Beside the log, `raw._built_definitions` keeps, per build step, a
fingerprint of the definitions it last built with: a step whose definitions
changed rebuilds everything instead of the changed keys.
"""

from __future__ import annotations

import duckdb

from ingestion.contract import ENTITIES

CHANGES_TABLE = "raw._changed_keys"
CONSUMED_TABLE = "raw._consumed_changes"
DEFINITIONS_TABLE = "raw._built_definitions"
# Per customer-level incremental model: the as-of date and period origins its rows were built for
# (macros/changed_customers.sql).
BOUNDS_TABLE = "raw._built_bounds"


def ensure_change_log(con: duckdb.DuckDBPyConnection) -> None:
    """Create the change log and its readers' watermarks if missing."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(f"CREATE TABLE IF NOT EXISTS {CHANGES_TABLE} "
                "(change_seq BIGINT NOT NULL, entity VARCHAR NOT NULL, key_value VARCHAR)")
    con.execute(f"CREATE TABLE IF NOT EXISTS {CONSUMED_TABLE} (model VARCHAR NOT NULL, change_seq BIGINT NOT NULL)")
    con.execute(f"CREATE TABLE IF NOT EXISTS {DEFINITIONS_TABLE} (step VARCHAR PRIMARY KEY, fingerprint VARCHAR)")
    con.execute(f"CREATE TABLE IF NOT EXISTS {BOUNDS_TABLE} "
                "(model VARCHAR PRIMARY KEY, as_of_date DATE, first_week DATE, first_month DATE)")


def next_change_seq(con: duckdb.DuckDBPyConnection) -> int:
    """A batch number above every batch logged or consumed so far (pruning never lowers it)."""
    (seq,) = con.execute(
        f"SELECT greatest((SELECT coalesce(max(change_seq), 0) FROM {CHANGES_TABLE}), "
        f"(SELECT coalesce(max(change_seq), 0) FROM {CONSUMED_TABLE})) + 1"
    ).fetchone()
    return int(seq)


def record_changed_keys(con: duckdb.DuckDBPyConnection, entity: str, keys_sql: str | None) -> int:
    """Log the distinct keys `keys_sql` yields (one column) as one batch for `entity`; None logs "every key".

    Returns the batch's change_seq (0 when there was nothing to log).
    """
    seq = next_change_seq(con)
    if keys_sql is None:
        con.execute(f"INSERT INTO {CHANGES_TABLE} VALUES (?, ?, NULL)", [seq, entity])
        return seq
    (count,) = con.execute(
        f"INSERT INTO {CHANGES_TABLE} SELECT DISTINCT ?, ?, key_value FROM ({keys_sql}) AS touched(key_value) "
        "WHERE key_value IS NOT NULL", [seq, entity]).fetchone()
    return seq if count else 0


def consumed_change_seq(con: duckdb.DuckDBPyConnection, reader: str) -> int | None:
    """The last batch `reader` consumed (None: it has consumed none)."""
    row = con.execute(f"SELECT max(change_seq) FROM {CONSUMED_TABLE} WHERE model = ?", [reader]).fetchone()
    return None if row[0] is None else int(row[0])


def mark_changes_consumed(con: duckdb.DuckDBPyConnection, reader: str, applied_by: tuple[str, ...] = ()) -> None:
    """Record that `reader` has consumed every batch logged so far.

    A reader of tables that other readers bring up to date (a check of a
    staging model) consumes at most what every one of `applied_by` has
    consumed: a batch they have not applied yet is read again next time.
    """
    seq = next_change_seq(con) - 1
    for other in applied_by:
        seq = min(seq, consumed_change_seq(con, other) or 0)
    con.execute(f"DELETE FROM {CONSUMED_TABLE} WHERE model = ?", [reader])
    con.execute(f"INSERT INTO {CONSUMED_TABLE} VALUES (?, ?)", [reader, seq])


def changed_keys_since(entity: str, after_seq: int) -> str:
    """SQL: the keys of `entity` logged after batch `after_seq` (NULL among them: every key)."""
    return (f"SELECT key_value FROM {CHANGES_TABLE} WHERE entity = '{entity}' AND change_seq > {int(after_seq)}")


def gone_keys(keys_sql: str, present_sql: str) -> str:
    """SQL: the keys of `keys_sql` (one column) that `present_sql` (one column of keys) does not yield.

    What a reference to a changed parent key needs looked at again: a key its
    parent still has (a customer's new version, a new customer) cannot break a
    reference to it, and probing ten million referencing rows for a day's
    changed parents costs about a second, for nothing, where none has gone.
    """
    return (f"SELECT changed.k FROM ({keys_sql}) AS changed (k) "
            f"WHERE NOT EXISTS (SELECT 1 FROM ({present_sql}) AS present (k) WHERE present.k = changed.k)")


def changed_rows_query(relation: str, touched: list[tuple[str, str]], after_seq: int,
                       present: dict[str, str] | None = None) -> str:
    """SQL: the rows of `relation` (a table) in which a column of `touched` ((column, entity) pairs) names a key
    its entity logged after batch `after_seq`; of an entity in `present` (entity: SQL of the keys it has now),
    only a logged key it no longer has (`gone_keys`).

    One membership test per column, with the keys of all its entities: DuckDB then reads only the row groups
    whose min/max can hold a changed key. `a IN (...) OR b IN (...)` reads every row (half a second at ten
    million orders, for each query a check runs on the slice); several columns are therefore united by row id.
    """
    keys_by_column: dict[str, list[str]] = {}
    for column, entity in touched:
        keys = changed_keys_since(entity, after_seq)
        if present and entity in present:
            keys = gone_keys(keys, present[entity])
        keys_by_column.setdefault(column, []).append(keys)
    tests = [f"{column} IN ({' UNION ALL '.join(keys)})" for column, keys in keys_by_column.items()]
    if len(tests) == 1:
        return f"SELECT * FROM {relation} WHERE {tests[0]}"
    row_ids = " UNION ALL ".join(f"SELECT rowid FROM {relation} WHERE {test}" for test in tests)
    return f"SELECT * FROM {relation} WHERE rowid IN ({row_ids})"


def every_key_changed_since(con: duckdb.DuckDBPyConnection, entity: str, after_seq: int | None) -> bool:
    """Whether a reader at watermark `after_seq` must redo every key of `entity`: it has consumed nothing
    yet (None), or a batch since names every key (NULL)."""
    if after_seq is None:
        return True
    return con.execute(f"SELECT count(*) FROM ({changed_keys_since(entity, after_seq)}) AS c "
                       "WHERE key_value IS NULL").fetchone()[0] > 0


def latest_source_change(con: duckdb.DuckDBPyConnection) -> int:
    """The latest batch logged for a source entity (0: none): what is new in the data.

    Entries the models log themselves (`order_customers`) are not counted: a
    run that only rebuilt its models has brought nothing new. Pruning keeps
    this batch, so the number never falls back.
    """
    (seq,) = con.execute(f"SELECT coalesce(max(change_seq), 0) FROM {CHANGES_TABLE} "
                         "WHERE entity IN (SELECT unnest(?::VARCHAR[]))", [list(ENTITIES)]).fetchone()
    return int(seq)


def prune_consumed_changes(con: duckdb.DuckDBPyConnection) -> None:
    """Drop batches every reader has consumed (the latest batch stays, so batch numbers keep growing).

    A reader's watermark outlives the reader: after renaming or removing a
    staging model, its row in raw._consumed_changes holds pruning back (the
    log only grows, nothing is wrong) until it is deleted.
    """
    con.execute(f"DELETE FROM {CHANGES_TABLE} WHERE change_seq < (SELECT min(change_seq) FROM {CONSUMED_TABLE}) "
                "AND change_seq < ?", [latest_source_change(con)])


def built_fingerprint(con: duckdb.DuckDBPyConnection, step: str) -> str | None:
    """The fingerprint of the definitions `step` last built with successfully (None: never)."""
    ensure_change_log(con)
    row = con.execute(f"SELECT fingerprint FROM {DEFINITIONS_TABLE} WHERE step = ?", [step]).fetchone()
    return None if row is None else row[0]


def remember_fingerprint(con: duckdb.DuckDBPyConnection, step: str, fingerprint: str) -> None:
    """Record that `step` built successfully with the definitions of `fingerprint`."""
    ensure_change_log(con)
    con.execute(f"INSERT OR REPLACE INTO {DEFINITIONS_TABLE} VALUES (?, ?)", [step, fingerprint])
