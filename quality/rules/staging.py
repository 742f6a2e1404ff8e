"""The rules of the staging layer: what deduplication and the quarantine promise.

- one row per key after deduplication;
- every reference resolves inside staging (orders to customers, lines to
  orders, interactions and responses to customers): the quarantine removed
  orphans, so a failure here means a rule and the staging models disagree;
- one currency: every order is in the reporting currency or in one that
  reference.fx_rates converts.
"""

from __future__ import annotations

from dataclasses import replace

from ingestion.contract import ENTITIES, Entity, staging_model
from quality.rules.row_rule import RowRule

STAGING_SCHEMA = "staging"
# The staging names of the contract's personal columns that stay in clear there (e-mail and phone are
# pseudonymised in staging): the rows a staging check returns leave them out.
STAGING_PII_COLUMNS: dict[str, tuple[str, ...]] = {"customers": ("customer_name",)}


def staging_relation(entity: Entity) -> str:
    """Qualified name of an entity's staging model."""
    return f"{STAGING_SCHEMA}.{staging_model(entity)}"


def unique_key_rule(entity: Entity) -> RowRule:
    """Rows sharing their key with another row of the staging model."""
    keys = ", ".join(entity.key_columns)
    return RowRule(
        f"{staging_model(entity)}.key_unique", staging_model(entity), entity.key_columns[0],
        f"{' and '.join(entity.key_columns)} not unique after deduplication",
        f"({keys}) IN (SELECT {keys} FROM {{batch}} GROUP BY ALL HAVING count(*) > 1)",
    )


def reference_rules(entity: Entity) -> list[RowRule]:
    """Rows whose reference names no row of the parent's staging model."""
    rules = []
    for column, parent_name in entity.references:
        parent = ENTITIES[parent_name]
        (parent_key,) = parent.key_columns
        # An anti join (NOT EXISTS) rather than NOT IN: DuckDB needs no null-aware mark join, builds one hash
        # table instead of two and spills it, so a whole model of 185 million lines is checked in about half
        # the memory and time; a day's rows still look up only their own parents. A missing reference
        # (NULL) finds no parent, which breaks the rule unless the contract lets the column be empty.
        allowed_empty = f"{column} IS NOT NULL AND " if column in entity.nullable_columns else ""
        rules.append(RowRule(
            f"{staging_model(entity)}.{column}_resolves", staging_model(entity), column,
            f"{column} names no row of {staging_relation(parent)}",
            # The parent's key is renamed so that `{column}` binds to the checked row, whatever the names.
            f"{allowed_empty}NOT EXISTS (SELECT 1 FROM (SELECT {parent_key} AS _parent_key FROM "
            f"{staging_relation(parent)}) AS parent WHERE parent._parent_key = {column})",
        ))
    return rules


CURRENCY_HINT = ("set the reporting currency (RETENTION_REPORTING_CURRENCY=EUR, or retention run --currency EUR) "
                 "and give every other currency a rate to it in dbt_project/seeds/fx_rates.csv "
                 "(currency,rate_to_reporting)")


def currency_rules(entity: Entity, reporting_currency: str | None) -> list[RowRule]:
    """Orders whose currency cannot be reported: no rate to the reporting currency, or mixed with none set.

    Without a reporting currency the orders' one currency is it (model
    int_reporting_currency); with several, every order outside the most common
    currency is named, with how to set one.
    """
    if entity.name != "orders":
        return []
    if reporting_currency is None:
        return [RowRule(
            f"{staging_model(entity)}.one_currency", staging_model(entity), "currency",
            f"the orders are in more than one currency and no reporting currency is set: {CURRENCY_HINT}",
            # The most common currency of the whole model, also when the check examines only changed rows.
            f"currency IS NOT NULL AND currency <> (SELECT mode(currency) FROM {staging_relation(entity)} "
            "WHERE currency IS NOT NULL)",
        )]
    return [RowRule(
        f"{staging_model(entity)}.one_currency", staging_model(entity), "currency",
        f"currency is not {reporting_currency} and reference.fx_rates has no rate for it: {CURRENCY_HINT}",
        f"coalesce(currency, '{reporting_currency}') <> '{reporting_currency}' AND currency NOT IN "
        "(SELECT upper(trim(currency)) FROM reference.fx_rates WHERE currency IS NOT NULL)",
    )]


def staging_rules(entity: Entity, reporting_currency: str | None) -> list[RowRule]:
    """Every rule of an entity's staging model."""
    rules = [unique_key_rule(entity), *reference_rules(entity), *currency_rules(entity, reporting_currency)]
    return [replace(rule, hidden_columns=STAGING_PII_COLUMNS.get(entity.name, ())) for rule in rules]
