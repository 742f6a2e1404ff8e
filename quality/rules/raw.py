"""The row rules of the raw layer, derived from the source contract.

Raw tables hold every value as received text, so the rules say which text is
unusable, from each column's contract type (ingestion/contract.py), by the
very conversion staging applies (`try_cast(trim(value) AS <type>)`):

- a decimal must convert, keep its value (no more decimal places than the
  type has: 2.555 would silently become 2.56), and lie within the type's
  bounds, which keep every sum the marts take from overflowing;
- an integer must be a whole number (2.5 would silently become 3) within its
  bounds;
- a timestamp must parse, not lie in the future and not before 1900.

So a row that passes converts exactly in staging, and a row that would not is
quarantined with its file, row, column and value. Beyond types: a missing
key, a survey score off its scale or a survey type nobody knows, text with
bytes that did not decode. Duplicates and orphan keys need other rows:
quality/rules/keys.py.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import replace
from pathlib import Path

from ingestion.contract import ENTITIES, Column, dbt_vars
from ingestion.raw.tables import KEY_COLUMN, LINEAGE_COLUMNS, SOURCE_STATUSES_TABLE, UNSHOWN_LINEAGE
from quality.rules.keys import conflicting_duplicate_rules, key_rules
from quality.rules.row_rule import ERROR, WARNING, RowRule

# Clock skew between source systems is normal; a timestamp later than this is not.
FUTURE_TOLERANCE = "INTERVAL 1 DAY"
SURVEY_SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5)}
# What the loader writes in place of bytes that are valid in no supported encoding.
REPLACEMENT_CHARACTER = "\ufffd"
# Wide enough to hold any value a contract decimal could be rounded from.
EXACT_DECIMAL = "DECIMAL(38, 10)"
DIGIT = "\\d"  # one digit in a regular expression
# Where each raw row's breaches of the load rules are kept (quality/verdicts.py): one row per (row, rule).
VERDICTS_TABLE = "quarantine._verdicts"


def _text(column: str) -> str:
    return f"nullif(trim({column}), '')"


def typed_value(column: str, sql_type: str) -> str:
    """SQL: a raw text column converted as staging converts it (NULL when it does not convert)."""
    return f"try_cast(trim({column}) AS {sql_type})"


def _number(value: float | int) -> str:
    return format(value, "f") if isinstance(value, float) else str(value)


def missing_key_rules(entity: str) -> list[RowRule]:
    """A key column is empty."""
    return [
        RowRule(f"{entity}.{key}_present", entity, key, f"{key} is missing", f"{_text(key)} IS NULL")
        for key in ENTITIES[entity].key_columns
    ]


def decimal_rules(entity: str, column: Column) -> list[RowRule]:
    """A decimal that does not convert, would lose decimals, or lies outside its bounds."""
    kind = column.type
    name, typed = column.name, typed_value(column.name, kind.sql)
    present = f"{_text(name)} IS NOT NULL"
    rules = [
        RowRule(f"{entity}.{name}_is_number", entity, name,
                f"{name} is not a number (or has more than {kind.precision - kind.scale} digits before the point)",
                f"{present} AND {typed} IS NULL"),
        # Two ways to lose digits: a plain fraction longer than the scale (the regex sees every digit; no
        # braces, which Great Expectations would take for a placeholder), and exponent notation
        # (1.2345e-1), compared at a wide scale.
        RowRule(f"{entity}.{name}_decimals", entity, name, f"{name} has more than {kind.scale} decimal places",
                f"(NOT contains(lower(trim({name})), 'e') AND regexp_matches(trim({name}), "
                f"'\\.{DIGIT * kind.scale}\\d*[1-9]')) OR {typed} <> {typed_value(name, EXACT_DECIMAL)}"),
    ]
    if kind.minimum is not None:
        below = ("is negative", "not_negative") if kind.minimum == 0 else (f"is below {kind.minimum}", "at_least_min")
        rules.append(RowRule(f"{entity}.{name}_{below[1]}", entity, name, f"{name} {below[0]}",
                             f"{typed} < {_number(kind.minimum)}"))
    if kind.maximum is not None:
        rules.append(RowRule(f"{entity}.{name}_not_too_large", entity, name,
                             f"{name} is larger than {kind.maximum:,} (a data error: sums of such values overflow)",
                             f"{typed} > {_number(kind.maximum)}"))
    return rules


def line_amount_rules(entity: str) -> list[RowRule]:
    """A line whose quantity x unit price exceeds the money type's bound (it would not fit the line amount)."""
    if entity != "order_items":
        return []
    spec = ENTITIES[entity]
    money = next(c.type for c in ENTITIES["orders"].specs if c.type.name == "money")
    product = " * ".join(typed_value(c, spec.spec(c).type.sql) for c in ("quantity", "unit_price"))
    return [RowRule(f"{entity}.line_amount_not_too_large", entity, "quantity",
                    f"quantity x unit_price is larger than {money.maximum:,} (a data error: the line's amount "
                    "would not fit)", f"{product} > {_number(money.maximum)}")]


def integer_rules(entity: str, column: Column) -> list[RowRule]:
    """An integer that is not a whole number, or lies outside its bounds."""
    kind = column.type
    name, typed = column.name, typed_value(column.name, kind.sql)
    exact = typed_value(name, EXACT_DECIMAL)
    return [
        RowRule(f"{entity}.{name}_is_integer", entity, name, f"{name} is not a whole number",
                f"{_text(name)} IS NOT NULL AND ({typed} IS NULL OR {exact} IS NULL OR {typed} <> {exact})"),
        RowRule(f"{entity}.{name}_in_range", entity, name,
                f"{name} is outside {_number(kind.minimum)}..{_number(kind.maximum)}",
                f"{typed} NOT BETWEEN {_number(kind.minimum)} AND {_number(kind.maximum)}"),
    ]


def timestamp_instant(column: str) -> str:
    """SQL: the instant a raw timestamp text names, read exactly as staging reads it (macro to_reporting_time).

    Text naming its own zone after the time of day (dbt var source_zone_pattern)
    is taken as it says; other text is read in the source time zone.
    """
    project = dbt_vars()
    return (f"CASE WHEN regexp_matches(trim({column}), '{project['source_zone_pattern']}') "
            f"THEN try_cast(regexp_replace(trim({column}), '{project['source_offset_gap']}', '\\1') AS TIMESTAMPTZ) "
            f"ELSE timezone('{project['source_time_zone']}', try_cast(trim({column}) AS TIMESTAMP)) END")


def timestamp_rules(entity: str, column: Column) -> list[RowRule]:
    """A timestamp that does not parse, lies in the future, or lies before the type's minimum."""
    name, parsed = column.name, timestamp_instant(column.name)
    return [
        RowRule(f"{entity}.{name}_parses", entity, name, f"{name} is not a timestamp",
                f"{_text(name)} IS NOT NULL AND {parsed} IS NULL"),
        RowRule(f"{entity}.{name}_not_in_future", entity, name, f"{name} is in the future",
                f"{parsed} > current_timestamp + {FUTURE_TOLERANCE}", clock_dependent=True),
        RowRule(f"{entity}.{name}_not_too_old", entity, name, f"{name} is before {column.type.minimum}",
                f"{parsed} < TIMESTAMPTZ '{column.type.minimum}'"),
    ]


TYPE_RULES = {"decimal": decimal_rules, "integer": integer_rules, "timestamp": timestamp_rules}


def shared_values(entity: str) -> dict[str, str]:
    """The converted values several type rules of an entity read: {SQL expression: the column to hold it}.

    A timestamp is parsed by three rules and a number converted by up to four:
    judged together (quality/verdicts.py), each conversion is computed once per
    row into its own column (`sharing` rewrites the predicates to read it);
    at ten million orders the load rules take 9 s instead of 15.
    """
    shared = {}
    for column in ENTITIES[entity].specs:
        if column.type.kind == "timestamp":
            shared[timestamp_instant(column.name)] = f"_typed_{column.name}"
        elif column.type.kind in ("decimal", "integer"):
            shared[typed_value(column.name, column.type.sql)] = f"_typed_{column.name}"
            shared[typed_value(column.name, EXACT_DECIMAL)] = f"_exact_{column.name}"
    return shared


def sharing(rule: RowRule, shared: dict[str, str]) -> RowRule:
    """The rule reading the shared values' columns (`shared_values`) instead of converting again."""
    predicate = rule.predicate
    # Longest first: a timestamp's instant contains a plain conversion of the same text.
    for expression, column in sorted(shared.items(), key=lambda item: -len(item[0])):
        predicate = predicate.replace(expression, column)
    return replace(rule, predicate=predicate)


def type_rules(entity: str) -> list[RowRule]:
    """Every contract column's type rules; a `warn_only` column's rules warn instead of quarantining.

    A customer's created_at is an attribute, not what the customer is: its
    rules warn and staging keeps the customer with created_at NULL, instead of
    quarantining the customer and, with it, all their orders.
    """
    rules = []
    for column in ENTITIES[entity].specs:
        make = TYPE_RULES.get(column.type.kind)
        if make is None:
            continue
        column_rules = make(entity, column)
        rules += [replace(rule, severity=WARNING) for rule in column_rules] if column.warn_only else column_rules
    return rules


# The status mapping users extend (a dbt seed); staging maps unknown statuses to pending.
STATUS_MAP_SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "order_status_map.csv"


def status_map() -> dict[str, str]:
    """Source status (lower case) -> normalised status, as the order_status_map seed maps them."""
    with STATUS_MAP_SEED.open(encoding="utf-8", newline="") as handle:
        return {row["source_status"].strip().lower(): row["status"].strip() for row in csv.DictReader(handle)}


def mapped_statuses() -> list[str]:
    """The source statuses the order_status_map seed maps (lower case)."""
    return sorted(status_map())


def sql_list(words: list[str] | tuple[str, ...]) -> str:
    """SQL: the words as a comma-separated list of string literals (empty for none)."""
    return ", ".join("'" + word.replace("'", "''") + "'" for word in words)


def status_is(normalised: str | None) -> str:
    """SQL: a raw order's status maps (seed, or its source's own words) to `normalised` (None: to anything).

    Staging maps exactly so (stg_orders__orders): the source's words first, then the seed.
    """
    source_words = (f"SELECT source_status FROM {SOURCE_STATUSES_TABLE} AS words WHERE words.source_file = "
                    "_source_file" + (f" AND words.status = '{normalised}'" if normalised else ""))
    seed_words = [word for word, status in status_map().items() if normalised is None or status == normalised]
    return f"(lower(trim(status)) IN ({sql_list(seed_words)}) OR lower(trim(status)) IN ({source_words}))"


def status_rules(entity: str) -> list[RowRule]:
    """An order status no mapping knows: a warning, the order counts as pending."""
    if entity != "orders":
        return []
    return [RowRule(f"{entity}.status_mapped", entity, "status",
                    "status is neither in seeds/order_status_map.csv nor in its source's statuses (sources file), "
                    "so the order counts as pending",
                    f"{_text('status')} IS NOT NULL AND NOT {status_is(None)}", severity=WARNING)]


def revenue_rules(entity: str) -> list[RowRule]:
    """A completed order with neither an order total nor a usable line: its revenue is unknown.

    A usable line is a current raw order line that breaks none of its load
    rules (their verdicts are kept per load: quality/verdicts.py). An order
    that is not completed needs neither (it counts for nothing). Lines load
    after their orders, so at load time this rule would
    fire for every order whose lines are still to come: it is the
    quarantine's (quality/quarantine.py), never a load's bad share.
    """
    if entity != "orders":
        return []
    items = ENTITIES["order_items"]
    # The lines' own verdicts are kept per load (quality/verdicts.py): read, not evaluated again.
    errors = ", ".join(f"'{rule.name}'" for rule in load_rules(items.name) if rule.severity == ERROR)
    # Only the lines of the orders judged are read: a day's orders probe eighteen million lines.
    # The line rules' definitions, by hash: editing one changes this rule's fingerprint, so the orders are
    # judged again with the lines' new verdicts.
    definitions = hashlib.sha256(json.dumps([(rule.name, rule.predicate) for rule in load_rules(items.name)
                                             if rule.severity == ERROR]).encode()).hexdigest()[:16]
    usable = (f"SELECT DISTINCT lines.{KEY_COLUMN} FROM {items.current_raw_table} AS lines "
              f"ANTI JOIN (SELECT load_id, row_number FROM {VERDICTS_TABLE} WHERE entity = '{items.name}' "
              f"AND rule IN ({errors})) AS broken "
              "ON broken.load_id = lines._load_id AND broken.row_number = lines._row_number "
              f"WHERE lines.{KEY_COLUMN} IN (SELECT {KEY_COLUMN} FROM {{batch}}) "
              f"/* line rules: {definitions} */")
    return [RowRule(f"{entity}.revenue_known", entity, "order_total",
                    "the order is completed but has neither lines nor an order_total, so its revenue is unknown",
                    f"{_text('order_total')} IS NULL AND {status_is('completed')} AND "
                    f"{KEY_COLUMN} NOT IN ({usable})", counts_against_limit=False)]


def survey_rules(entity: str) -> list[RowRule]:
    """Survey type unknown, or score off its type's scale."""
    if entity != "survey_responses":
        return []
    score = typed_value("score", ENTITIES[entity].spec("score").type.sql)
    survey_type = "lower(trim(survey_type))"
    off_scale = " OR ".join(
        f"({survey_type} = '{kind}' AND {score} NOT BETWEEN {low} AND {high})"
        for kind, (low, high) in SURVEY_SCALES.items()
    )
    known = ", ".join(f"'{kind}'" for kind in SURVEY_SCALES)
    return [
        RowRule(f"{entity}.survey_type_known", entity, "survey_type", "survey_type is not nps or csat",
                f"{survey_type} NOT IN ({known}) OR survey_type IS NULL"),
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


def record_rules(entity: str) -> list[RowRule]:
    """A line of a JSON Lines file that is not a JSON object: the loader kept it, with `_parse_error`."""
    return [RowRule(f"{entity}.line_is_a_record", entity, "_parse_error",
                    "the line is not a JSON object (malformed JSON Lines)", "_parse_error IS NOT NULL")]


def raw_row_rules(entity: str) -> list[RowRule]:
    """Every rule on the rows of an entity's raw table: on each row's values, then across rows.

    The rows a rule returns show only the lineage and the contract's columns
    without personal data: no name, e-mail or phone, and no column outside
    the contract, whose content nobody has vouched for.
    """
    rules = own_row_rules(entity) + key_rules(entity)
    return [replace(rule, shown_columns=shown_raw_columns(entity)) for rule in rules]


def own_row_rules(entity: str) -> list[RowRule]:
    """The rules on each row's own values, needing no other row (keys.py has those that do)."""
    return (record_rules(entity) + missing_key_rules(entity) + type_rules(entity) + line_amount_rules(entity)
            + status_rules(entity) + survey_rules(entity) + decoding_rules(entity))


def load_rules(entity: str) -> list[RowRule]:
    """The rules judging a row by its own values and the rows of its own load (every severity).

    Their verdict on a row changes only with the clock (RowRule.clock_dependent)
    or with the status words of a sources file (status_mapped), so it is
    evaluated once per load and kept (quality/verdicts.py); the other raw
    rules look at other tables.
    """
    return own_row_rules(entity) + conflicting_duplicate_rules(entity)


def shown_raw_columns(entity: str) -> tuple[str, ...]:
    """The raw columns a check or preview may show: lineage and the contract's non-personal columns."""
    spec = ENTITIES[entity]
    lineage = (c for c in LINEAGE_COLUMNS if c not in UNSHOWN_LINEAGE)
    return (*lineage, *(c for c in spec.columns if c not in spec.pii_columns))
