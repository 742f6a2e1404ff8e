"""The row rules of the raw layer, derived from the source contract.

Raw tables hold every value as received text, so the rules say which text is
unusable: a missing key, a timestamp that does not parse or lies in the
future, an amount or quantity that is not a number or is negative, a survey
score off its scale or a survey type nobody knows, text with bytes that did
not decode. Duplicates and orphan keys need other rows: quality/rules/keys.py.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

from ingestion.contract import ENTITIES
from quality.rules.keys import key_rules
from quality.rules.row_rule import WARNING, RowRule

# Clock skew between source systems is normal; a timestamp later than this is not.
FUTURE_TOLERANCE = "INTERVAL 1 DAY"

TIMESTAMP_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("created_at",),
    "interactions": ("occurred_at",),
    "orders": ("ordered_at",),
    "order_items": (),
    "survey_responses": ("submitted_at",),
}
# Money and counts that must be numbers and never negative.
AMOUNT_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": (),
    "interactions": (),
    "orders": ("order_discount", "order_total"),
    "order_items": ("quantity", "unit_price", "line_discount"),
    "survey_responses": (),
}
WARN_ONLY_TIMESTAMPS = frozenset({"customers"})
SURVEY_SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5)}
# What the loader writes in place of bytes that are valid in no supported encoding.
REPLACEMENT_CHARACTER = "\ufffd"


def _text(column: str) -> str:
    return f"nullif(trim({column}), '')"


def missing_key_rules(entity: str) -> list[RowRule]:
    """A key column is empty."""
    return [
        RowRule(f"{entity}.{key}_present", entity, key, f"{key} is missing", f"{_text(key)} IS NULL")
        for key in ENTITIES[entity].key_columns
    ]


def typed_text_rules(
    entity: str, column: str, typed: str, unreadable: tuple[str, str], out_of_bounds: tuple[str, str, str],
) -> list[RowRule]:
    """Two rules on a text column read as a type: it must convert, and the value must be in bounds.

    `typed` is the SQL conversion (NULL when the text does not convert);
    `unreadable` is (rule suffix, reason); `out_of_bounds` is (rule suffix,
    reason, predicate on the converted value).
    """
    unreadable_suffix, unreadable_reason = unreadable
    bound_suffix, bound_reason, bound_predicate = out_of_bounds
    return [
        RowRule(f"{entity}.{column}_{unreadable_suffix}", entity, column, f"{column} {unreadable_reason}",
                f"{_text(column)} IS NOT NULL AND {typed} IS NULL"),
        RowRule(f"{entity}.{column}_{bound_suffix}", entity, column, f"{column} {bound_reason}", bound_predicate),
    ]


def timestamp_rules(entity: str) -> list[RowRule]:
    """A timestamp does not parse, or lies in the future.

    A customer's created_at is an attribute, not what the customer is: the
    rules warn and staging keeps the customer with created_at NULL, instead
    of quarantining the customer and, with it, all their orders.
    """
    rules = []
    for column in TIMESTAMP_COLUMNS[entity]:
        parsed = f"try_cast(trim({column}) AS TIMESTAMPTZ)"
        rules += typed_text_rules(
            entity, column, parsed, ("parses", "is not a timestamp"),
            ("not_in_future", "is in the future", f"{parsed} > current_timestamp + {FUTURE_TOLERANCE}"),
        )
    if entity in WARN_ONLY_TIMESTAMPS:
        rules = [replace(rule, severity=WARNING) for rule in rules]
    return rules


def amount_rules(entity: str) -> list[RowRule]:
    """An amount or quantity is not a number, or is negative."""
    rules = []
    for column in AMOUNT_COLUMNS[entity]:
        number = f"try_cast(trim({column}) AS DECIMAL(18, 2))"
        rules += typed_text_rules(
            entity, column, number, ("is_number", "is not a number"), ("not_negative", "is negative", f"{number} < 0"),
        )
    return rules


# The status mapping users extend (a dbt seed); staging maps unknown statuses to pending.
STATUS_MAP_SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "order_status_map.csv"


def mapped_statuses() -> list[str]:
    """The source statuses the order_status_map seed maps (lower case)."""
    with STATUS_MAP_SEED.open(encoding="utf-8", newline="") as handle:
        return sorted({row["source_status"].strip().lower() for row in csv.DictReader(handle)})


def status_rules(entity: str) -> list[RowRule]:
    """An order status the mapping does not know: a warning, the order counts as pending."""
    if entity != "orders":
        return []
    known = ", ".join("'" + status.replace("'", "''") + "'" for status in mapped_statuses())
    return [RowRule(f"{entity}.status_mapped", entity, "status",
                    "status is not in seeds/order_status_map.csv, so the order counts as pending",
                    f"{_text('status')} IS NOT NULL AND lower(trim(status)) NOT IN ({known})", severity=WARNING)]


def line_number_rules(entity: str) -> list[RowRule]:
    """A line number (part of the line's key) that is not a whole number."""
    if entity != "order_items":
        return []
    return [RowRule(f"{entity}.line_number_is_integer", entity, "line_number", "line_number is not a whole number",
                    f"{_text('line_number')} IS NOT NULL AND try_cast(trim(line_number) AS INTEGER) IS NULL")]


def survey_rules(entity: str) -> list[RowRule]:
    """Survey type unknown, score not an integer, or off its type's scale."""
    if entity != "survey_responses":
        return []
    score = "try_cast(trim(score) AS INTEGER)"
    survey_type = "lower(trim(survey_type))"
    off_scale = " OR ".join(
        f"({survey_type} = '{kind}' AND {score} NOT BETWEEN {low} AND {high})"
        for kind, (low, high) in SURVEY_SCALES.items()
    )
    known = ", ".join(f"'{kind}'" for kind in SURVEY_SCALES)
    return [
        RowRule(f"{entity}.survey_type_known", entity, "survey_type", "survey_type is not nps or csat",
                f"{survey_type} NOT IN ({known}) OR survey_type IS NULL"),
        RowRule(f"{entity}.score_is_integer", entity, "score", "score is not a whole number",
                f"{_text('score')} IS NOT NULL AND {score} IS NULL"),
        RowRule(f"{entity}.score_on_scale", entity, "score", "score is outside its survey's scale", off_scale),
    ]


def decoding_rules(entity: str) -> list[RowRule]:
    """A text value holds bytes that were neither UTF-8 nor GB18030 (replaced by U+FFFD on load)."""
    columns = ", ".join(f"coalesce({c}, '')" for c in ENTITIES[entity].columns)
    return [RowRule(
        f"{entity}.text_decodes", entity, "(any text column)",
        "a value holds bytes that are not valid UTF-8 or GB18030 (shown as \ufffd)",
        f"contains(concat({columns}), '{REPLACEMENT_CHARACTER}')",
    )]


def raw_row_rules(entity: str) -> list[RowRule]:
    """Every rule on the rows of an entity's raw table: on each row's values, then across rows."""
    return (missing_key_rules(entity) + line_number_rules(entity) + timestamp_rules(entity) + amount_rules(entity)
            + status_rules(entity) + survey_rules(entity) + decoding_rules(entity) + key_rules(entity))
