"""`retention sources check`: what a run would make of the landing files, without touching the warehouse.

Every landing file (contract files and mapped exports alike) is loaded by
the run's own loader into a scratch in-memory DuckDB, and the run's own
quarantine rules judge it there: so the counts are those a first run on
these files quarantines, by construction. Database sources are not read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.contract import ENTITIES, Entity
from ingestion.landing.loader import load_landing_entity
from ingestion.landing.options import file_options
from ingestion.mapping.spec import mapped_sources
from ingestion.pii import define_pseudonym_macro
from quality.quarantine import (
    OWN_DEFECT_COLUMN,
    RULE_COLUMN,
    ensure_quarantine_tables,
    quarantine_table,
    quarantining_rules,
    rebuild_quarantine,
)
from quality.rules.raw import raw_row_rules
from quality.rules.row_rule import WARNING


def load_order() -> list[Entity]:
    """The entities, every parent before the entities that reference it (as the raw assets run)."""
    ordered: list[Entity] = []
    while len(ordered) < len(ENTITIES):
        for entity in ENTITIES.values():
            if entity not in ordered and all(ENTITIES[p] in ordered for _, p in entity.references):
                ordered.append(entity)
    return ordered


@dataclass
class ColumnCheck:
    """One contract column of an entity: rows with a value, and rows its rules would quarantine or warn on."""

    column: str
    mapped_from: str
    with_value: int
    quarantined: int
    warned: int


@dataclass
class FileCheck:
    """One landing file's rows of one entity and the share of them with defects of their own."""

    source_file: str
    rows: int
    own_defects: int

    @property
    def bad_share(self) -> float:
        """What the bad-share limit applies to."""
        return self.own_defects / self.rows if self.rows else 0.0


@dataclass
class EntityCheck:
    """What a run would make of one entity's landing files."""

    entity: str
    received: int
    quarantined: int
    by_rule: dict[str, int]  # rule reason -> rows
    columns: list[ColumnCheck]
    files: list[FileCheck]
    unmapped_statuses: dict[str, int] = field(default_factory=dict)
    guests: int = 0  # rows with an empty nullable reference (guest orders)
    orphans: int = 0  # rows whose reference names nobody


def check_sources(landing_dir: Path, sources_file: Path | None, pii_key: str | None = None) -> list[EntityCheck]:
    """Load every landing file into a scratch database and report, per entity, what a run would quarantine."""
    con = duckdb.connect()
    try:
        define_pseudonym_macro(con, pii_key)
        ensure_quarantine_tables(con)
        mapped = mapped_sources(sources_file)
        options = file_options(sources_file)
        origins: dict[str, dict[str, str]] = {}
        for entity in load_order():
            loaded = load_landing_entity(con, landing_dir, entity, options=options, mapped=mapped)
            origins[entity.name] = {}
            for outcome in loaded.files:
                for column, origin in outcome.mapped_from.items():
                    known = origins[entity.name].get(column)
                    origins[entity.name][column] = origin if known in (None, origin) else f"{known} | {origin}"
        for entity in load_order():
            rebuild_quarantine(con, entity)
        return [entity_check(con, entity, origins[entity.name]) for entity in ENTITIES.values()]
    finally:
        con.close()


def entity_check(con: duckdb.DuckDBPyConnection, entity: Entity, origins: dict[str, str]) -> EntityCheck:
    """The counts of one entity in the scratch database."""
    table = entity.current_raw_table
    (received,) = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    (quarantined,) = con.execute(f"SELECT count(*) FROM {quarantine_table(entity)}").fetchone()
    rules = {rule.name: rule for rule in quarantining_rules(entity)}
    per_rule = dict(con.execute(
        f"SELECT rule, count(*) FROM (SELECT unnest(string_split({RULE_COLUMN}, ', ')) AS rule "
        f"FROM {quarantine_table(entity)}) GROUP BY rule ORDER BY 2 DESC").fetchall())
    warnings = [rule for rule in raw_row_rules(entity.name) if rule.severity == WARNING]
    warned = {rule.name: con.execute(f"SELECT count(*) FROM {table} WHERE {rule.predicate_on(table)}").fetchone()[0]
              for rule in warnings}
    columns = []
    for column in entity.columns:
        (with_value,) = con.execute(
            f"SELECT count(*) FROM {table} WHERE nullif(trim(\"{column}\"), '') IS NOT NULL").fetchone()
        columns.append(ColumnCheck(
            column, origins.get(column, ""), with_value,
            sum(n for name, n in per_rule.items() if name in rules and rules[name].column == column),
            sum(n for name, n in warned.items() if n and next(r for r in warnings if r.name == name).column == column),
        ))
    files = [FileCheck(f, n, own) for f, n, own in con.execute(
        f"SELECT received._source_file, count(*), count(rejected._row_number) FILTER ({OWN_DEFECT_COLUMN}) "
        f"FROM {table} AS received LEFT JOIN {quarantine_table(entity)} AS rejected "
        "ON rejected._load_id = received._load_id AND rejected._row_number = received._row_number "
        "GROUP BY ALL ORDER BY 1").fetchall()]
    check = EntityCheck(entity.name, received, quarantined,
                        {rules[name].reason if name in rules else name: n for name, n in per_rule.items()},
                        columns, files)
    status_rule = next((r for r in warnings if r.name.endswith(".status_mapped")), None)
    if status_rule is not None:
        check.unmapped_statuses = dict(con.execute(
            f"SELECT trim(status), count(*) FROM {table} WHERE {status_rule.predicate_on(table)} "
            "GROUP BY 1 ORDER BY 2 DESC, 1").fetchall())
    for column in entity.nullable_columns:
        (check.guests,) = con.execute(
            f"SELECT count(*) FROM {table} WHERE nullif(trim(\"{column}\"), '') IS NULL").fetchone()
    references = {f"{entity.name}.{column}_known" for column, _ in entity.references}
    check.orphans = sum(n for name, n in per_rule.items() if name in references)
    return check


def format_check(checks: list[EntityCheck], max_bad_share: float) -> str:
    """The check as text: per entity the rows, per column what parses, why rows would be quarantined."""
    lines = []
    for check in checks:
        if not check.received:
            continue
        kept = check.received - check.quarantined
        lines.append(f"\n{check.entity}: {check.received:,} rows; {kept:,} would reach staging, "
                     f"{check.quarantined:,} quarantine")
        lines.append(f"  {'column':<20} {'mapped from':<34} {'with value':>11} {'parse':>11} {'quarantined':>11}"
                     f" {'warned':>8}")
        for column in (c for c in check.columns if c.mapped_from or c.with_value or c.quarantined):
            parses = column.with_value - column.quarantined - column.warned
            lines.append(f"  {column.column:<20} {column.mapped_from[:34]:<34} {column.with_value:>11,} "
                         f"{max(parses, 0):>11,} {column.quarantined:>11,} {column.warned:>8,}")
        for reason, rows in check.by_rule.items():
            lines.append(f"  quarantined: {rows:,} rows: {reason}")
        if check.unmapped_statuses:
            words = ", ".join(f"{word!r} ({n:,})" for word, n in check.unmapped_statuses.items())
            lines.append(f"  statuses no mapping knows (they count as pending): {words}; map them under "
                         "`statuses:` of the source")
        if check.guests:
            lines.append(f"  guest rows (no customer id; kept, in no customer mart): {check.guests:,} "
                         f"({check.guests / check.received:.1%})")
        if check.orphans:
            lines.append(f"  orphans (reference to nobody): {check.orphans:,} ({check.orphans / check.received:.1%})")
        for file in check.files:
            verdict = ("REFUSED: above the bad-share limit" if file.bad_share > max_bad_share else "within the limit")
            lines.append(f"  file {file.source_file}: {file.rows:,} rows, {file.bad_share:.2%} with defects of "
                         f"their own ({verdict} of {max_bad_share:.0%})")
    return "\n".join(lines).lstrip("\n") or "No landing files found."
