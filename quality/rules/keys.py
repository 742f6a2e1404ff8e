"""Raw rules that look beyond one row: keys that clash within a file, and references to nothing.

- A key that appears more than once in one load with different content is a
  conflict nobody can resolve by rule (which row is right?), so every row of
  that key in that load goes to quarantine. Identical copies are not a
  conflict: staging keeps one and the reconciliation counts the others as
  exact duplicates. For customers the version is (customer_id, updated_at):
  two rows with the same id and different updated_at are two versions, and
  staging keeps the latest.
- A reference (an order's customer, a line's order, ...) must name a row of
  the parent entity that is itself accepted, i.e. in raw and not quarantined.
  A `nullable` reference may be empty: an order without a customer id is a
  guest order, kept and never counted against the bad share.
  Lines of a quarantined order are therefore quarantined too, and an order
  whose customer arrives in a later load is released by the next rebuild.

Predicates read the checked table through the `{batch}` placeholder (Great
Expectations' own), which `RowRule.predicate_on` replaces for plain SQL.
"""

from __future__ import annotations

from ingestion.contract import ENTITIES
from ingestion.raw.tables import KEY_COLUMN, compared_value
from quality.rules.row_rule import RowRule


def accepted_keys_query(entity: str, among: str) -> str:
    """SQL: the keys of an entity's current raw rows that are not quarantined (column `accepted_key`),
    of those the query `among` yields (one column of keys, as key_text gives them)."""
    raw = ENTITIES[entity]
    return (
        f"SELECT accepted.{KEY_COLUMN} AS accepted_key FROM {raw.current_raw_table} AS accepted "
        f"ANTI JOIN quarantine.{entity} AS rejected "
        "ON rejected._load_id = accepted._load_id AND rejected._row_number = accepted._row_number "
        f"WHERE accepted.{KEY_COLUMN} IN ({among})"
    )


def reference_rules(entity: str) -> list[RowRule]:
    """A reference that is empty or names no row of its parent; or names only quarantined ones."""
    rules = []
    for column, parent in ENTITIES[entity].references:
        raw = ENTITIES[parent]
        value = compared_value(ENTITIES[entity], column)
        (parent_key,) = raw.key_columns  # only single-column keys are referenced
        # Only the parent keys the checked rows name are looked up (by the key stored at load): a day's
        # few thousand rows then probe ten million parents instead of collecting all their keys.
        named = f"SELECT {value} FROM {{batch}}"
        received = f"SELECT {KEY_COLUMN} FROM {raw.current_raw_table} WHERE {KEY_COLUMN} IN ({named})"
        accepted = f"SELECT accepted_key FROM ({accepted_keys_query(parent, named)}) AS parents"
        if column in ENTITIES[entity].nullable_columns:
            # Empty is a fact here (a guest order): only a value naming nobody is a defect.
            known = RowRule(f"{entity}.{column}_known", entity, column,
                            f"{column} names no {parent} row ({parent_key} unknown)",
                            f"{value} NOT IN ({received})")
        else:
            known = RowRule(f"{entity}.{column}_known", entity, column,
                            f"{column} is missing or names no {parent} row ({parent_key} unknown)",
                            f"coalesce({value} NOT IN ({received}), true)")
        rules += [
            known,
            RowRule(
                f"{entity}.{column}_accepted", entity, column,
                f"{column} names a {parent} row that is itself quarantined",
                f"{value} IN ({received}) AND {value} NOT IN ({accepted})",
                counts_against_limit=False,
            ),
        ]
    return rules


def conflicting_duplicate_rules(entity: str) -> list[RowRule]:
    """Rows sharing a key (and version) within one load while their content differs."""
    spec = ENTITIES[entity]
    # The first key as stored at load (KEY_COLUMN): one column instead of trimming each key anew.
    keys = [compared_value(spec, c) for c in spec.key_columns]
    versions = [f"coalesce(trim({c}), '')" for c in spec.version_columns]
    grouping = ", ".join(["_load_id", *keys, *versions])
    content = "row(" + ", ".join(spec.columns) + ")"
    present = " AND ".join(f"{k} IS NOT NULL" for k in keys)
    # Two stages: only keys that repeat at all are compared by content.
    repeated = f"SELECT {grouping} FROM {{batch}} WHERE {present} GROUP BY ALL HAVING count(*) > 1"
    conflicting = (
        f"SELECT {grouping} FROM {{batch}} WHERE ({grouping}) IN ({repeated}) "
        f"GROUP BY ALL HAVING count(DISTINCT {content}) > 1"
    )
    named = " and ".join((*spec.key_columns, *spec.version_columns))
    return [RowRule(
        f"{entity}.key_unique_in_file", entity, spec.key_columns[0],
        f"{named} repeat in the same file with different content, so which row is right is unknown",
        f"({grouping}) IN ({conflicting})",
    )]


def key_rules(entity: str) -> list[RowRule]:
    """Every multi-row rule of an entity's raw table."""
    return conflicting_duplicate_rules(entity) + reference_rules(entity)
