"""Great Expectations suites, one per checked table, built from the rules in quality/rules.

Every rule becomes an `UnexpectedRowsExpectation`: its SQL runs inside
DuckDB and GX counts the rows it returns. The raw suites also expect the
source contract's columns.
"""

from __future__ import annotations

import great_expectations as gx

from ingestion.contract import ENTITIES
from quality.rules.raw import raw_row_rules
from quality.rules.row_rule import RowRule


def rules_suite(name: str, rules: list[RowRule], columns: tuple[str, ...] = ()) -> gx.ExpectationSuite:
    """A suite named `name`: the columns present (if given), then one expectation per rule."""
    expectations: list = []
    if columns:
        expectations.append(gx.expectations.ExpectTableColumnsToMatchSet(
            column_set=list(columns), exact_match=False, description=f"{name} has every column of its contract",
        ))
    expectations += [
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=rule.unexpected_rows_query(), description=rule.reason,
            meta={"rule": rule.name, "column": rule.column, "severity": rule.severity},
        )
        for rule in rules
    ]
    return gx.ExpectationSuite(name=name, expectations=expectations)


def raw_suite(entity: str) -> gx.ExpectationSuite:
    """The raw-layer suite of an entity: contract columns present, then one expectation per row rule."""
    return rules_suite(f"raw.{entity}", raw_row_rules(entity), ENTITIES[entity].columns)
