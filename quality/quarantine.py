"""The quarantine: raw rows that break a raw rule, set aside with the rule and the reason.

`quarantine.<entity>` holds the raw row as received (every column, lineage
included) plus `_quarantine_rule` (the rules it breaks) and
`_quarantine_reason` (why, in words). Staging reads raw without the rows
found here (matched on `_load_id`, `_row_number`), so every raw row of a
current load (raw.<entity>__current: each file's latest version) ends in
staging or in quarantine.

A run updates the table instead of rebuilding it (`update_quarantine`): it
judges the rows of the loads it has not judged yet, drops the rows of loads
a newer file version replaced, and judges again only the rows whose outcome
can change: every row in quarantine (an orphan whose customer has arrived, a
timestamp no longer in the future) and the accepted rows that name a parent
key this run touched (a customer whose file version dropped them), and, for
orders, the orders whose lines changed. The result equals a rebuild from all
of raw (`rebuild_quarantine`), which a first load, a change of the rules
(their fingerprint) or a forgotten file triggers. Each update logs the keys
it touched in the change log (ingestion/raw/changes.py) for staging.

Before a load is committed, `judge_load` applies the same rules to the new
rows alone; above the allowed bad share the loader rolls the file back. The
rules that judge a row by itself and its file are evaluated only there, once
per load (quality/verdicts.py); the quarantine reads their kept verdicts and
evaluates only the rules that look at other tables.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import duckdb

from ingestion.contract import ENTITIES, Entity
from ingestion.raw.changes import (
    changed_keys_since,
    consumed_change_seq,
    ensure_change_log,
    every_key_changed_since,
    gone_keys,
    mark_changes_consumed,
    prune_consumed_changes,
    record_changed_keys,
)
from ingestion.raw.layout import ensure_layout
from ingestion.raw.manifest import CURRENT_LOADS_VIEW, mapped_origins
from ingestion.raw.tables import (
    KEY_COLUMN,
    add_stored_key,
    compared_value,
    ensure_raw_table,
    quote_identifier,
)
from quality.rules.keys import accepted_keys_query
from quality.rules.raw import load_rules, raw_row_rules, revenue_rules, shown_raw_columns
from quality.rules.row_rule import ERROR, RowRule
from quality.verdicts import (
    VERDICT_COLUMN,
    VERDICTS_TABLE,
    definition_hash,
    ensure_verdicts,
    judge_loads,
    kept,
    with_verdicts,
)

SCHEMA = "quarantine"
RULE_COLUMN = "_quarantine_rule"
REASON_COLUMN = "_quarantine_reason"
# True when the row breaks a rule of its own (not only "its parent is quarantined").
OWN_DEFECT_COLUMN = "_quarantine_own_defect"
# Per entity: the rules' fingerprint the table was judged with.
STATE_TABLE = "quarantine._state"
# Per entity: the loads whose rows the table has judged.
JUDGED_LOADS_TABLE = "quarantine._judged_loads"
DEFAULT_MAX_BAD_SHARE = 0.01
EXAMPLES_PER_RULE = 1


def quarantining_rules(entity: Entity) -> list[RowRule]:
    """The raw rules whose breach sends a row to quarantine (severity error), and the rules on an order's lines."""
    rules = raw_row_rules(entity.name) + [replace(rule, shown_columns=shown_raw_columns(entity.name))
                                          for rule in revenue_rules(entity.name)]
    return [rule for rule in rules if rule.severity == ERROR]


def judged_rules(entity: str) -> list[RowRule]:
    """The entity's raw rules (quality/rules/raw.py) read from the one judgement instead of evaluated again.

    A load rule's breaches are its kept verdicts (quality/verdicts.py); a rule
    looking at other tables (a reference) is an error rule, so its breaches
    are the rows the quarantine holds for it, judged this run. What the raw
    check reports with GX (orchestration/checks/raw_rules.py, which runs after
    the quarantine). The predicates name each rule's definition by hash.
    """
    at_load = {rule.name for rule in load_rules(entity)}
    table = quarantine_table(ENTITIES[entity])
    return [kept(rule) if rule.name in at_load else replace(
        rule, predicate=f"(_load_id, _row_number) IN (SELECT _load_id, _row_number FROM {table} "
                        f"WHERE list_contains(string_split({RULE_COLUMN}, ', '), '{rule.name}') "
                        f"/* judged by the quarantine: {definition_hash(rule)} */)")
        for rule in raw_row_rules(entity)]


def quarantine_table(entity: Entity) -> str:
    """Qualified name of the entity's quarantine table."""
    return f"{SCHEMA}.{entity.name}"


def ensure_quarantine_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every raw and quarantine table that does not exist yet (rules read their parents').

    Once per layout (ingestion/raw/layout.py): the steps that call this find them in place.
    """
    ensure_layout(con, "quarantine", _create_quarantine_tables)


def _create_quarantine_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The statements of ensure_quarantine_tables (each one idempotent)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    for entity in ENTITIES.values():
        ensure_raw_table(con, entity)
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {quarantine_table(entity)} AS "
            f"SELECT *, CAST(NULL AS VARCHAR) AS {RULE_COLUMN}, CAST(NULL AS VARCHAR) AS {REASON_COLUMN}, "
            f"CAST(NULL AS BOOLEAN) AS {OWN_DEFECT_COLUMN} FROM {entity.raw_table} LIMIT 0"
        )
        add_stored_key(con, entity, quarantine_table(entity))
    con.execute(f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} "
                "(entity VARCHAR PRIMARY KEY, rules_fingerprint VARCHAR)")
    con.execute(f"CREATE TABLE IF NOT EXISTS {JUDGED_LOADS_TABLE} (entity VARCHAR, load_id VARCHAR)")
    ensure_change_log(con)


def rejected_rows_query(entity: Entity, relation: str, rules: list[RowRule] | None = None,
                        batch: str | None = None) -> str:
    """SQL: the rows of `relation` that break at least one rule, with the rule names and reasons.

    The load rules' verdicts are read from the kept judgement
    (quality/verdicts.py: call `ensure_verdicts` first); the other rules are
    evaluated here, each predicate once, into a flag. Rows breaking several
    rules name them all. Rules comparing rows compare with the rows of
    `batch` (default: `relation` itself).
    """
    rules = quarantining_rules(entity) if rules is None else rules
    judged_at_load = {rule.name for rule in load_rules(entity.name)}
    flags = [f"_breaks_{i}" for i in range(len(rules))]
    own = [flag for rule, flag in zip(rules, flags, strict=True) if rule.counts_against_limit] or ["false"]
    # One join brings each row's kept verdicts (a list of rule names); a probe per rule would build one
    # hash table per rule over millions of rows.
    judged = ", ".join(
        f"coalesce(list_contains({VERDICT_COLUMN}, '{rule.name}'), false) AS {flag}" if rule.name in judged_at_load
        else f"coalesce(({rule.predicate_on(batch or relation)}), false) AS {flag}"
        for rule, flag in zip(rules, flags, strict=True)
    )
    names = ", ".join(f"CASE WHEN {flag} THEN '{rule.name}' END" for rule, flag in zip(rules, flags, strict=True))
    reasons = ", ".join(
        f"CASE WHEN {flag} THEN '{rule.reason.replace(chr(39), chr(39) * 2)}' END"
        for rule, flag in zip(rules, flags, strict=True)
    )
    return (
        f"SELECT * EXCLUDE ({', '.join(flags)}, {VERDICT_COLUMN}), concat_ws(', ', {names}) AS {RULE_COLUMN}, "
        f"concat_ws('; ', {reasons}) AS {REASON_COLUMN}, ({' OR '.join(own)}) AS {OWN_DEFECT_COLUMN} "
        f"FROM (SELECT *, {judged} FROM ({with_verdicts(entity, relation)}) AS rows) AS judged "
        f"WHERE {' OR '.join(flags)}"
    )


@contextmanager
def kept_build_sides(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the judging queries with DuckDB's joins built on the side the query names (the small one).

    Those queries join millions of raw rows with the kept verdicts and the
    parents' keys. DuckDB underestimates the raw side (a view filtered by its
    current loads) and, swapping build and probe, hashes every raw row with
    all its columns: out of memory at ten million orders under a 3 GB limit.
    Without the swap the same query streams the raw rows (measured: 23 s
    instead of running out of memory on 18.5 million order lines).
    """
    (disabled,) = con.execute("SELECT current_setting('disabled_optimizers')").fetchone()
    con.execute("SET disabled_optimizers = ?", [",".join(filter(None, [disabled, "build_side_probe_side"]))])
    try:
        yield
    finally:
        try:
            con.execute("SET disabled_optimizers = ?", [disabled or ""])
        except duckdb.Error:
            # A failed statement aborted the load's transaction, which refuses even SET: the statement's own
            # error is the one to report (the loader rolls back); the setting only shapes plans.
            pass


def rebuild_quarantine(con: duckdb.DuckDBPyConnection, entity: Entity) -> dict[str, int]:
    """Rebuild the entity's quarantine from all its current raw rows; return rows per rule combination.

    The change log says "every key" of the entity changed.
    """
    ensure_quarantine_tables(con)
    ensure_rule_inputs(con, entity)
    raw, judgement = entity.raw_table, (RULE_COLUMN, REASON_COLUMN, OWN_DEFECT_COLUMN)
    # Judged by lineage and the columns the rules read, then the rejected rows read whole by row id: a
    # judgement carrying every column through its joins takes twice as long (orders 21 s instead of 12 s,
    # lines 21 s instead of 8 s at ten million orders).
    with kept_build_sides(con):
        con.execute(f"CREATE OR REPLACE TEMP TABLE _rejected AS SELECT _load_id, _row_number, {', '.join(judgement)} "
                    f"FROM ({rejected_rows_query(entity, entity.current_raw_table)}) AS rejected")
    con.execute(
        f"CREATE OR REPLACE TABLE {quarantine_table(entity)} AS SELECT judged.*, "
        f"{', '.join(f'rejected.{column}' for column in judgement)} FROM (SELECT * FROM {raw} WHERE rowid IN ("
        f"SELECT c.rowid FROM {raw} AS c SEMI JOIN _rejected AS r "
        "ON c._load_id = r._load_id AND c._row_number = r._row_number)) AS judged "
        "JOIN _rejected AS rejected ON judged._load_id = rejected._load_id "
        "AND judged._row_number = rejected._row_number")
    con.execute("DROP TABLE _rejected")
    record_changed_keys(con, entity.name, None)
    _remember_judged(con, entity)
    return rows_per_rule(con, entity)


def ensure_rule_inputs(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """Bring up to date the kept verdicts the entity's quarantining rules read: its own, and an order's lines'."""
    ensure_verdicts(con, entity)
    if entity.name == "orders":
        ensure_verdicts(con, ENTITIES["order_items"])


def rules_fingerprint(entity: Entity) -> str:
    """A hash of the entity's quarantining rules (names, predicates, limits): a change means judging anew."""
    rules = [(rule.name, rule.predicate, rule.counts_against_limit) for rule in quarantining_rules(entity)]
    return hashlib.sha256(json.dumps(rules).encode()).hexdigest()


def _remember_judged(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """Record that the entity's current loads are judged with today's rules, with every change batch so far."""
    con.execute(f"DELETE FROM {JUDGED_LOADS_TABLE} WHERE entity = ?", [entity.name])
    con.execute(f"INSERT INTO {JUDGED_LOADS_TABLE} SELECT entity, load_id FROM {CURRENT_LOADS_VIEW} "
                "WHERE entity = ?", [entity.name])
    con.execute(f"INSERT OR REPLACE INTO {STATE_TABLE} VALUES (?, ?)", [entity.name, rules_fingerprint(entity)])
    mark_changes_consumed(con, change_reader(entity))


def change_reader(entity: Entity) -> str:
    """The name under which the entity's quarantine records the change batches it has consumed."""
    return f"{SCHEMA}.{entity.name}"


def update_quarantine(con: duckdb.DuckDBPyConnection, entity: Entity, full: bool = False) -> dict[str, int]:
    """Bring the entity's quarantine up to date with its current raw rows; return rows per rule combination.

    Judges only what can have changed since the last update (see the module
    docstring); rebuilds from all of raw when `full`, on the first update, when
    the rules changed, when a parent entity was rebuilt, or when a replaced
    load's rows are gone from raw (`retention forget`). Parents are updated
    first (the quarantine assets depend on theirs).
    """
    ensure_quarantine_tables(con)
    prune_consumed_changes(con)
    state = con.execute(f"SELECT rules_fingerprint FROM {STATE_TABLE} WHERE entity = ?", [entity.name]).fetchone()
    judged_seq = consumed_change_seq(con, change_reader(entity))
    if full or state is None or state[0] != rules_fingerprint(entity) or judged_seq is None:
        return rebuild_quarantine(con, entity)
    name, table, raw = entity.name, quarantine_table(entity), entity.raw_table
    key = KEY_COLUMN
    con.execute(f"CREATE OR REPLACE TEMP TABLE _new_loads AS SELECT load_id FROM {CURRENT_LOADS_VIEW} "
                f"WHERE entity = '{name}' EXCEPT SELECT load_id FROM {JUDGED_LOADS_TABLE} WHERE entity = '{name}'")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _gone_loads AS SELECT load_id FROM {JUDGED_LOADS_TABLE} "
                f"WHERE entity = '{name}' EXCEPT SELECT load_id FROM {CURRENT_LOADS_VIEW} WHERE entity = '{name}'")
    gone_without_rows = con.execute(
        f"SELECT count(*) FROM _gone_loads WHERE load_id NOT IN (SELECT DISTINCT _load_id FROM {raw})").fetchone()[0]
    parent_rebuilt = any(every_key_changed_since(con, parent, judged_seq) for _, parent in entity.references)
    if gone_without_rows or parent_rebuilt:
        return rebuild_quarantine(con, entity)
    ensure_rule_inputs(con, entity)

    # The rows to judge again, by (_load_id, _row_number), all of current loads.
    current = entity.current_raw_table
    candidates = [f"SELECT _load_id, _row_number FROM {raw} WHERE _load_id IN (SELECT load_id FROM _new_loads)",
                  f"SELECT _load_id, _row_number FROM {table}"]
    # Rows naming a changed parent key, and orders whose lines changed: one query each, not one query with
    # OR, which would read every row instead of the row groups whose min/max can hold a changed key. The
    # keys are collected first: as a subquery their number is unknown to DuckDB, which then builds its join
    # on the ten million rows of the current loads instead of on a day's few thousand keys (2-3 s a query).
    # Of a parent's changed keys, only those without an accepted row now can change a verdict (an orphan
    # whose parent arrives is in quarantine, judged again anyway; a parent's new version changes nothing).
    probes = []
    for number, (column, parent) in enumerate(entity.references):
        con.execute(f"CREATE OR REPLACE TEMP TABLE _changed_{number} AS SELECT DISTINCT * FROM "
                    f"({changed_keys_since(parent, judged_seq)}) AS k (k)")
        probes.append((compared_value(entity, column), gone_keys(
            f"SELECT k FROM _changed_{number}", accepted_keys_query(parent, f"SELECT k FROM _changed_{number}"))))
    if name == "orders":
        probes.append((key, touched_order_ids()))
    for number, (value, keys) in enumerate(probes):
        con.execute(f"CREATE OR REPLACE TEMP TABLE _probe_{number} AS SELECT DISTINCT * FROM ({keys}) AS k (k)")
        candidates.append(f"SELECT _load_id, _row_number FROM {current} "
                          f"WHERE {value} IN (SELECT k FROM _probe_{number})")
    con.execute("CREATE OR REPLACE TEMP TABLE _rejudge AS SELECT DISTINCT * FROM (" + " UNION ALL ".join(candidates)
                + f") AS c WHERE _load_id IN (SELECT load_id FROM {CURRENT_LOADS_VIEW} WHERE entity = '{name}')")
    # The rows are found by their lineage and key columns, then read whole by row id: a join carrying every
    # column reads all of them for every raw row (three times slower at ten million orders). _rejudge holds
    # rows of current loads only, and the rows sharing their load do too.
    con.execute(f"CREATE OR REPLACE TEMP TABLE _judged_rows AS SELECT * FROM {raw} WHERE rowid IN "
                f"(SELECT c.rowid FROM {raw} AS c "
                "SEMI JOIN _rejudge AS r ON c._load_id = r._load_id AND c._row_number = r._row_number)")
    # A key repeated in its file is judged against every row of that file with that key.
    con.execute(f"CREATE OR REPLACE TEMP TABLE _judged_batch AS SELECT * FROM {raw} WHERE rowid IN "
                f"(SELECT c.rowid FROM {raw} AS c SEMI JOIN (SELECT DISTINCT _load_id, {key} AS k FROM _judged_rows) "
                f"AS j ON c._load_id = j._load_id AND c.{key} = j.k)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _before AS SELECT _load_id, _row_number, {key} AS k FROM {table} "
                "SEMI JOIN _rejudge USING (_load_id, _row_number)")
    con.execute(f"DELETE FROM {table} WHERE _load_id IN (SELECT load_id FROM _gone_loads) "
                "OR (_load_id, _row_number) IN (SELECT (_load_id, _row_number) FROM _rejudge)")
    _add_drifted_columns(con, entity)
    with kept_build_sides(con):
        con.execute(f"INSERT INTO {table} BY NAME "
                    f"{rejected_rows_query(entity, '_judged_rows', batch='_judged_batch')}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _after AS SELECT _load_id, _row_number, {key} AS k FROM {table} "
                "SEMI JOIN _rejudge USING (_load_id, _row_number)")
    touched = [
        f"SELECT {key} FROM {raw} WHERE _load_id IN (SELECT load_id FROM _new_loads UNION ALL "
        "SELECT load_id FROM _gone_loads)",
        # Rows that entered or left quarantine.
        "SELECT k FROM ((SELECT * FROM _before EXCEPT SELECT * FROM _after) "
        "UNION ALL (SELECT * FROM _after EXCEPT SELECT * FROM _before)) AS flipped",
    ]
    record_changed_keys(con, name, " UNION ALL ".join(touched))
    _remember_judged(con, entity)
    return rows_per_rule(con, entity)


def _add_drifted_columns(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """Give the quarantine table the raw columns it lacks (a file with columns outside the contract)."""
    missing = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'raw' AND table_name = ? EXCEPT "
        f"SELECT column_name FROM duckdb_columns() WHERE schema_name = '{SCHEMA}' AND table_name = ?",
        [entity.name, entity.name]).fetchall()
    for (column,) in sorted(missing):
        con.execute(f"ALTER TABLE {quarantine_table(entity)} ADD COLUMN {quote_identifier(column)} VARCHAR")


def touched_order_ids() -> str:
    """SQL: the orders whose lines changed since order_items were last judged (new or replaced line loads).

    Read before order_items' own update (lines depend on their orders): an
    order's rule `revenue_known` reads its current lines.
    """
    items = ENTITIES["order_items"]
    loads = (f"(SELECT load_id FROM {CURRENT_LOADS_VIEW} WHERE entity = 'order_items' EXCEPT SELECT load_id "
             f"FROM {JUDGED_LOADS_TABLE} WHERE entity = 'order_items') UNION ALL (SELECT load_id FROM "
             f"{JUDGED_LOADS_TABLE} WHERE entity = 'order_items' EXCEPT SELECT load_id FROM {CURRENT_LOADS_VIEW} "
             "WHERE entity = 'order_items')")
    return f"SELECT {KEY_COLUMN} FROM {items.raw_table} WHERE _load_id IN ({loads})"  # the lines' order_id


def rows_per_rule(con: duckdb.DuckDBPyConnection, entity: Entity) -> dict[str, int]:
    """Rows in the entity's quarantine per rule combination."""
    rows = con.execute(
        f"SELECT {RULE_COLUMN}, count(*) FROM {quarantine_table(entity)} GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    return {rule: count for rule, count in rows}


@dataclass(frozen=True)
class QuarantineCounts:
    """How much of an entity's raw table is quarantined, with the first rows for people to look at."""

    entity: str
    received: int
    quarantined: int
    own_defects: int  # quarantined for a defect of their own, not only for a quarantined parent
    examples: list[dict[str, object]]

    @property
    def share(self) -> float:
        """Rows with defects of their own / rows received: what the bad-share limit applies to."""
        return self.own_defects / self.received if self.received else 0.0


def quarantine_counts(con: duckdb.DuckDBPyConnection, entity: Entity, examples: int = 5) -> QuarantineCounts:
    """Current raw rows and rows in quarantine, with up to `examples` quarantined rows (file, row, reason)."""
    received = con.execute(f"SELECT count(*) FROM {entity.current_raw_table}").fetchone()[0]
    quarantined, own_defects = con.execute(
        f"SELECT count(*), count(*) FILTER ({OWN_DEFECT_COLUMN}) FROM {quarantine_table(entity)}"
    ).fetchone()
    rows = con.execute(
        f"SELECT _source_file, _row_number, {REASON_COLUMN} FROM {quarantine_table(entity)} "
        f"ORDER BY _source_file, _row_number LIMIT {int(examples)}"
    ).fetchall()
    return QuarantineCounts(entity.name, received, quarantined, own_defects,
                            [{"file": f, "row": r, "reason": reason} for f, r, reason in rows])


@dataclass(frozen=True)
class RuleBreach:
    """How many rows of a load break one rule, and the first of them."""

    rule: RowRule
    rows: int
    first_row: int
    example_value: str | None
    origin: str = ""  # a mapped export's own column (or expression) behind the rule's column

    def describe(self) -> str:
        """E.g. `ordered_at is not a timestamp: 12 rows, first row 17 (ordered_at = 'not-a-date')`."""
        if self.rule.column.startswith("("):
            value = ""
        elif not self.rule.shows(self.rule.column):
            value = f" ({self.rule.column}: personal data, not shown)"
        elif self.example_value is None or not str(self.example_value).strip():
            value = f" ({self.rule.column} empty)"
        else:
            value = f" ({self.rule.column} = {self.example_value!r})"
        origin = f" (from the export's {self.origin!r})" if self.origin else ""
        return f"{self.rule.reason}: {self.rows:,} rows, first row {self.first_row}{value}{origin}"


@dataclass(frozen=True)
class LoadJudgement:
    """The raw rules applied to the rows of one load, before it is committed."""

    entity: str
    source_name: str
    rows: int
    bad_rows: int
    breaches: tuple[RuleBreach, ...]

    @property
    def bad_share(self) -> float:
        """Share of the load's rows that would be quarantined."""
        return self.bad_rows / self.rows if self.rows else 0.0

    def refusal(self, max_bad_share: float) -> str:
        """The message that refuses the load: file, share, and per rule the count, row, column and value."""
        lines = [
            f"{self.source_name}: {self.bad_rows:,} of {self.rows:,} {self.entity} rows ({self.bad_share:.2%}) break "
            f"the raw rules, more than the {max_bad_share:.2%} allowed (RETENTION_MAX_BAD_SHARE); "
            "the file was not loaded. Fix it (or raise the limit) and run again.",
        ]
        lines += [f"  - {breach.describe()}" for breach in self.breaches]
        return "\n".join(lines)


def judge_load(con: duckdb.DuckDBPyConnection, entity: Entity, load_id: str, source_name: str) -> LoadJudgement:
    """Apply the entity's raw rules to the rows of one (uncommitted) load.

    The load rules are evaluated once, into the kept verdicts that the
    quarantine and the raw check read later (quality/verdicts.py); the
    references, judged against the tables as they stand, are evaluated here.
    """
    ensure_quarantine_tables(con)
    judge_loads(con, entity, [load_id])
    relation = f"(SELECT * FROM {entity.raw_table} WHERE _load_id = '{load_id}')"
    counting = [rule for rule in quarantining_rules(entity) if rule.counts_against_limit]
    (rows,) = con.execute(f"SELECT count(*) FROM {relation} AS loaded").fetchone()
    with kept_build_sides(con):
        (bad_rows,) = con.execute(f"SELECT count(*) FILTER ({OWN_DEFECT_COLUMN}) FROM "
                                  f"({rejected_rows_query(entity, relation, counting)}) AS rejected").fetchone()
    breaches = []
    origins = mapped_origins(con, load_id) if bad_rows else {}
    judged_at_load = {rule.name for rule in load_rules(entity.name)}
    # The rules that make up the bad share; collateral ones (a quarantined parent, lines still to come)
    # would only confuse the refusal. Load rules are counted from their kept verdicts.
    broken = {rule for (rule,) in con.execute(
        f"SELECT DISTINCT rule FROM {VERDICTS_TABLE} WHERE entity = ? AND load_id = ?", [entity.name, load_id]
    ).fetchall()} if bad_rows else set()
    for rule in counting if bad_rows else []:
        if rule.name in judged_at_load and rule.name not in broken:
            continue
        if rule.name in judged_at_load:
            breaking = (f"{relation} AS loaded SEMI JOIN (SELECT row_number FROM {VERDICTS_TABLE} WHERE entity = "
                        f"'{entity.name}' AND load_id = '{load_id}' AND rule = '{rule.name}') AS verdict "
                        "ON verdict.row_number = loaded._row_number")
        else:
            breaking = f"{relation} AS loaded WHERE {rule.predicate_on(relation)}"
        column = "NULL" if rule.column.startswith("(") else rule.column
        count, first_row, value = con.execute(
            f"SELECT count(*), min(_row_number), arg_min({column}, _row_number) FROM {breaking}").fetchone()
        if count:
            breaches.append(RuleBreach(rule, count, first_row, value, origins.get(rule.column, "")))
    return LoadJudgement(entity.name, source_name, rows, bad_rows, tuple(breaches))


class BadShareExceeded(RuntimeError):
    """A load refused because too many of its rows break the raw rules; the message says which and where."""


def bad_share_guard(max_bad_share: float) -> Callable[[duckdb.DuckDBPyConnection, Entity, str, str], None]:
    """A load guard (ingestion.landing.loader.LoadGuard) refusing loads whose bad share exceeds the limit."""

    def refuse_above_limit(con: duckdb.DuckDBPyConnection, entity: Entity, load_id: str, source_name: str) -> None:
        judgement = judge_load(con, entity, load_id, source_name)
        if judgement.bad_share > max_bad_share:
            raise BadShareExceeded(judgement.refusal(max_bad_share))

    return refuse_above_limit
