"""The quarantine: raw rows that break a raw rule, set aside with the rule and the reason.

`quarantine.<entity>` holds the raw row as received (every column, lineage
included) plus `_quarantine_rule` (the rules it breaks) and
`_quarantine_reason` (why, in words). Staging reads raw without the rows
found here (matched on `_load_id`, `_row_number`), so every raw row of a
current load (raw.<entity>__current: each file's latest version) ends in
staging or in quarantine. The table is rebuilt from all of it on every run:
a rule change applies to old loads too, and an order whose customer arrives
later is released by the next rebuild.

Before a load is committed, `judge_load` applies the same rules to the new
rows alone; above the allowed bad share the loader rolls the file back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import duckdb

from ingestion.contract import ENTITIES, Entity
from ingestion.raw.manifest import mapped_origins
from ingestion.raw.tables import ensure_raw_table
from quality.rules.raw import raw_row_rules, revenue_rules, shown_raw_columns
from quality.rules.row_rule import ERROR, RowRule

SCHEMA = "quarantine"
RULE_COLUMN = "_quarantine_rule"
REASON_COLUMN = "_quarantine_reason"
# True when the row breaks a rule of its own (not only "its parent is quarantined").
OWN_DEFECT_COLUMN = "_quarantine_own_defect"
DEFAULT_MAX_BAD_SHARE = 0.01
EXAMPLES_PER_RULE = 1


def quarantining_rules(entity: Entity) -> list[RowRule]:
    """The raw rules whose breach sends a row to quarantine (severity error), and the rules on an order's lines."""
    rules = raw_row_rules(entity.name) + [replace(rule, shown_columns=shown_raw_columns(entity.name))
                                          for rule in revenue_rules(entity.name)]
    return [rule for rule in rules if rule.severity == ERROR]


def quarantine_table(entity: Entity) -> str:
    """Qualified name of the entity's quarantine table."""
    return f"{SCHEMA}.{entity.name}"


def ensure_quarantine_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every raw and quarantine table that does not exist yet (rules read their parents')."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    for entity in ENTITIES.values():
        ensure_raw_table(con, entity)
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {quarantine_table(entity)} AS "
            f"SELECT *, CAST(NULL AS VARCHAR) AS {RULE_COLUMN}, CAST(NULL AS VARCHAR) AS {REASON_COLUMN}, "
            f"CAST(NULL AS BOOLEAN) AS {OWN_DEFECT_COLUMN} FROM {entity.raw_table} LIMIT 0"
        )


def rejected_rows_query(entity: Entity, relation: str, rules: list[RowRule] | None = None) -> str:
    """SQL: the rows of `relation` that break at least one rule, with the rule names and reasons.

    Each predicate is evaluated once, into a flag; rows breaking several
    rules name them all.
    """
    rules = quarantining_rules(entity) if rules is None else rules
    flags = [f"_breaks_{i}" for i in range(len(rules))]
    own = [flag for rule, flag in zip(rules, flags, strict=True) if rule.counts_against_limit] or ["false"]
    judged = ", ".join(
        f"coalesce(({rule.predicate_on(relation)}), false) AS {flag}" for rule, flag in zip(rules, flags, strict=True)
    )
    names = ", ".join(f"CASE WHEN {flag} THEN '{rule.name}' END" for rule, flag in zip(rules, flags, strict=True))
    reasons = ", ".join(
        f"CASE WHEN {flag} THEN '{rule.reason.replace(chr(39), chr(39) * 2)}' END"
        for rule, flag in zip(rules, flags, strict=True)
    )
    return (
        f"SELECT * EXCLUDE ({', '.join(flags)}), concat_ws(', ', {names}) AS {RULE_COLUMN}, "
        f"concat_ws('; ', {reasons}) AS {REASON_COLUMN}, ({' OR '.join(own)}) AS {OWN_DEFECT_COLUMN} "
        f"FROM (SELECT *, {judged} FROM {relation}) AS judged WHERE {' OR '.join(flags)}"
    )


def rebuild_quarantine(con: duckdb.DuckDBPyConnection, entity: Entity) -> dict[str, int]:
    """Rebuild the entity's quarantine from all its current raw rows; return rows per rule combination."""
    ensure_quarantine_tables(con)
    con.execute(
        f"CREATE OR REPLACE TABLE {quarantine_table(entity)} AS "
        f"{rejected_rows_query(entity, entity.current_raw_table)}"
    )
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
    """Apply the entity's raw rules to the rows of one (uncommitted) load."""
    ensure_quarantine_tables(con)
    relation = f"(SELECT * FROM {entity.raw_table} WHERE _load_id = '{load_id}')"
    rows = con.execute(f"SELECT count(*) FROM {relation} AS loaded").fetchone()[0]
    bad_rows = con.execute(
        f"SELECT count(*) FILTER ({OWN_DEFECT_COLUMN}) FROM ({rejected_rows_query(entity, relation)}) AS rejected"
    ).fetchone()[0]
    breaches = []
    origins = mapped_origins(con, load_id) if bad_rows else {}
    if bad_rows:
        # The rules that make up the bad share; collateral ones (a quarantined parent, lines still to come)
        # would only confuse the refusal.
        for rule in (r for r in quarantining_rules(entity) if r.counts_against_limit):
            column = "NULL" if rule.column.startswith("(") else rule.column
            count, first_row, value = con.execute(
                f"SELECT count(*), min(_row_number), arg_min({column}, _row_number) "
                f"FROM {relation} AS loaded WHERE {rule.predicate_on(relation)}"
            ).fetchone()
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
