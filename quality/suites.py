"""Great Expectations suites built from the row rules and the source contract."""

from __future__ import annotations

import great_expectations as gx

from ingestion.contract import ENTITIES
from quality.rules.raw import raw_row_rules


def raw_suite(entity: str) -> gx.ExpectationSuite:
    """The raw-layer suite of an entity: contract columns present, then one expectation per row rule."""
    expectations: list = [
        gx.expectations.ExpectTableColumnsToMatchSet(
            column_set=list(ENTITIES[entity].columns), exact_match=False,
            description=f"raw.{entity} has every column of the source contract",
        )
    ]
    expectations += [
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=rule.unexpected_rows_query(), description=rule.reason,
            meta={"rule": rule.name, "column": rule.column, "severity": rule.severity},
        )
        for rule in raw_row_rules(entity)
    ]
    return gx.ExpectationSuite(name=f"raw.{entity}", expectations=expectations)
