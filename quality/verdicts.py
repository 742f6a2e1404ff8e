"""One judgement per load: the raw rules that need only a row and its file, evaluated once and kept.

Most raw rules (quality/rules/raw.py: types, keys present, scales, decoding,
a key repeated in its file with other content) judge a row by its own values
and the rows of its own load, so their verdict on a row hardly ever changes. They
are evaluated in one pass over each load, when the load is committed (the
bad-share guard), and the breaches are kept in `VERDICTS_TABLE`, one row per
(row, rule broken). The three readers share that judgement instead of
evaluating the rules again over the same rows:

- the load guard counts the load's bad share from it;
- the quarantine (quality/quarantine.py) takes each row's verdict from it and
  evaluates only the rules that look at other tables (a reference, an
  order's lines), whose verdict changes when those tables do;
- the raw Great Expectations check reports it, rule by rule, with GX's
  counts and examples (`quality.quarantine.judged_rules`).

Three things make a kept verdict stale, and all are handled here: new rule
definitions or new status words in the sources file (the loads are judged
again: `ensure_verdicts` compares a fingerprint per load) and the clock (a
timestamp "in the future" at load is judged again every time, see
`RowRule.clock_dependent`; a row cannot become future later, so only rows
already flagged need it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import duckdb

from ingestion.contract import Entity
from ingestion.raw.manifest import CURRENT_LOADS_VIEW
from ingestion.raw.tables import SOURCE_STATUSES_TABLE
from quality.rules.raw import VERDICTS_TABLE, load_rules, shared_values, sharing, sql_list
from quality.rules.row_rule import RowRule

# Per entity and load: the load rules' fingerprint the load was judged with.
VERDICT_LOADS_TABLE = "quarantine._verdict_loads"
# The column `with_verdicts` adds: the names of the load rules a row breaks (NULL: none).
VERDICT_COLUMN = "_verdict_rules"


def ensure_verdict_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the verdict tables if missing."""
    con.execute("CREATE SCHEMA IF NOT EXISTS quarantine")
    con.execute(f"CREATE TABLE IF NOT EXISTS {VERDICTS_TABLE} "
                "(entity VARCHAR NOT NULL, load_id VARCHAR NOT NULL, row_number BIGINT NOT NULL, "
                "rule VARCHAR NOT NULL)")
    con.execute(f"CREATE TABLE IF NOT EXISTS {VERDICT_LOADS_TABLE} "
                "(entity VARCHAR NOT NULL, load_id VARCHAR NOT NULL, rules_fingerprint VARCHAR NOT NULL)")


def verdict_fingerprint(con: duckdb.DuckDBPyConnection, entity: Entity) -> str:
    """A hash of what the entity's load rules judge with: their names, predicates and severities, and the
    status words of the sources file when a rule reads them. Another hash means judging anew."""
    rules = [(rule.name, rule.predicate, rule.severity) for rule in load_rules(entity.name)]
    if any(SOURCE_STATUSES_TABLE in rule.predicate for rule in load_rules(entity.name)):
        (words,) = con.execute(
            f"SELECT coalesce(string_agg(concat_ws('|', source_file, source_status, status), ',' "
            f"ORDER BY source_file, source_status, status), '') FROM {SOURCE_STATUSES_TABLE}").fetchone()
        rules.append(("status words", words, ""))
    return hashlib.sha256(json.dumps(rules).encode()).hexdigest()


def judge_loads(con: duckdb.DuckDBPyConnection, entity: Entity, load_ids: list[str] | tuple[str, ...]) -> None:
    """Evaluate the entity's load rules on the rows of `load_ids`, in one pass, and keep the breaches.

    Any earlier verdicts of these loads are replaced. Call inside the load's
    transaction when judging a load before it is committed.
    """
    if not load_ids:
        return
    ensure_verdict_tables(con)
    loads = sql_list(load_ids) or "NULL"
    # The conversions several rules read are computed once per row (shared_values).
    shared = shared_values(entity.name)
    rules = [sharing(rule, shared) for rule in load_rules(entity.name)]
    converted = "".join(f", {expression} AS {column}" for expression, column in shared.items())
    relation = f"(SELECT *{converted} FROM {entity.raw_table} WHERE _load_id IN ({loads}))"
    broken = ", ".join(f"CASE WHEN coalesce(({rule.predicate_on(relation)}), false) THEN '{rule.name}' END"
                       for rule in rules)
    con.execute(f"DELETE FROM {VERDICTS_TABLE} WHERE entity = ? AND load_id IN ({loads})", [entity.name])
    con.execute(f"DELETE FROM {VERDICT_LOADS_TABLE} WHERE entity = ? AND load_id IN ({loads})", [entity.name])
    con.execute(
        f"INSERT INTO {VERDICTS_TABLE} SELECT ?, _load_id, _row_number, unnest(broken) FROM ("
        f"SELECT _load_id, _row_number, list_filter([{broken}], lambda rule: rule IS NOT NULL) AS broken "
        f"FROM {relation} AS loaded) AS judged WHERE len(broken) > 0", [entity.name])
    con.execute(f"INSERT INTO {VERDICT_LOADS_TABLE} SELECT ?, unnest(?::VARCHAR[]), ?",
                [entity.name, list(load_ids), verdict_fingerprint(con, entity)])


def ensure_verdicts(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """Bring the entity's kept verdicts up to date: every current load judged with today's rules and clock.

    Loads committed without a guard, or judged with other rules, are judged
    now; verdicts of loads no longer current are dropped; rows flagged by a
    clock-dependent rule are judged again by that rule.
    """
    ensure_verdict_tables(con)
    stale = [load_id for (load_id,) in con.execute(
        f"SELECT load_id FROM {CURRENT_LOADS_VIEW} WHERE entity = $entity EXCEPT SELECT load_id FROM "
        f"{VERDICT_LOADS_TABLE} WHERE entity = $entity AND rules_fingerprint = $fingerprint ORDER BY load_id",
        {"entity": entity.name, "fingerprint": verdict_fingerprint(con, entity)}).fetchall()]
    judge_loads(con, entity, stale)
    for table in (VERDICTS_TABLE, VERDICT_LOADS_TABLE):
        con.execute(f"DELETE FROM {table} WHERE entity = $entity AND load_id NOT IN "
                    f"(SELECT load_id FROM {CURRENT_LOADS_VIEW} WHERE entity = $entity)", {"entity": entity.name})
    _rejudge_clock_rules(con, entity)


def _rejudge_clock_rules(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """Drop the verdicts of clock-dependent rules that no longer hold (a timestamp no longer in the future)."""
    for rule in (r for r in load_rules(entity.name) if r.clock_dependent):
        # The flagged rows are set apart first: in one statement DuckDB pushes the rule's predicate (text
        # parsing) below the join, into the scan of every raw row (4.6 s at ten million orders, for none).
        con.execute(f"CREATE OR REPLACE TEMP TABLE _clock_flagged AS SELECT raw.* FROM {entity.raw_table} AS raw "
                    f"SEMI JOIN {VERDICTS_TABLE} AS verdict ON verdict.load_id = raw._load_id "
                    "AND verdict.row_number = raw._row_number AND verdict.entity = ? AND verdict.rule = ?",
                    [entity.name, rule.name])
        con.execute(
            f"DELETE FROM {VERDICTS_TABLE} WHERE entity = ? AND rule = ? AND (load_id, row_number) NOT IN "
            "(SELECT (_load_id, _row_number) FROM _clock_flagged "
            f"WHERE coalesce(({rule.predicate_on('_clock_flagged')}), false))", [entity.name, rule.name])
        con.execute("DROP TABLE _clock_flagged")


def with_verdicts(entity: Entity, relation: str) -> str:
    """SQL: the rows of `relation` (raw rows of the entity, with lineage) and their kept verdicts (VERDICT_COLUMN).

    One join for every rule: what a reader of all the verdicts of many rows uses.
    """
    return (f"SELECT judged.*, verdicts.{VERDICT_COLUMN} FROM {relation} AS judged LEFT JOIN ("
            f"SELECT load_id, row_number, list(rule) AS {VERDICT_COLUMN} FROM {VERDICTS_TABLE} "
            f"WHERE entity = '{entity.name}' GROUP BY ALL) AS verdicts "
            "ON verdicts.load_id = judged._load_id AND verdicts.row_number = judged._row_number")


def kept(rule: RowRule) -> RowRule:
    """The rule read from the kept verdicts instead of evaluated again (on rows with lineage columns).

    One probe per rule: what a reader of one rule's breaches uses (a check's expectation).

    The predicate names the rule's definition by hash, so that a check
    fingerprinting its rules sees a changed definition.
    """
    return replace(rule, predicate=f"(_load_id, _row_number) IN (SELECT load_id, row_number FROM {VERDICTS_TABLE} "
                                   f"WHERE entity = '{rule.entity}' AND rule = '{rule.name}' "
                                   f"/* judged at load: {definition_hash(rule)} */)")


def definition_hash(rule: RowRule) -> str:
    """A short hash of a rule's predicate: named in a predicate that reads the rule's verdicts instead."""
    return hashlib.sha256(rule.predicate.encode()).hexdigest()[:16]
