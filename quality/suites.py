"""Great Expectations suites, one per checked table, built from the rules in quality/rules.

Every rule becomes an `UnexpectedRowsExpectation` (`CountedRowsExpectation`):
its SQL runs inside DuckDB and GX counts the rows it returns. The raw suites
also expect the source contract's columns.
"""

from __future__ import annotations

from typing import Any, ClassVar

import great_expectations as gx
from great_expectations.core import ExpectationValidationResult
from great_expectations.execution_engine import ExecutionEngine

from ingestion.contract import ENTITIES
from quality.rules.raw import raw_row_rules
from quality.rules.row_rule import RowRule


class CountedRowsExpectation(gx.expectations.UnexpectedRowsExpectation):
    """GX's `UnexpectedRowsExpectation` that only counts the rows breaking the rule.

    GX's own also fetches them (up to 200) for the COMPLETE result format,
    and for a rule that holds that is a second evaluation of the whole query
    (a uniqueness or reference rule over ten million rows), whose rows the
    SUMMARY results these checks ask for then drop. The examples a failed
    check shows come from `quality.validation.failing_samples`. Data Docs
    render it as GX's own expectation.
    """

    metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.row_count",)

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None,
                  execution_engine: ExecutionEngine | None = None) -> ExpectationValidationResult | dict[str, Any]:
        count = metrics["unexpected_rows_query.row_count"]
        return {"success": count == 0, "result": {"observed_value": count}}


# The expectation type GX derives from the class name: its observed value is the count of breaking rows.
COUNTED_ROWS_TYPE: str = CountedRowsExpectation.expectation_type


def rules_suite(name: str, rules: list[RowRule], columns: tuple[str, ...] = ()) -> gx.ExpectationSuite:
    """A suite named `name`: the columns present (if given), then one expectation per rule."""
    expectations: list = []
    if columns:
        expectations.append(gx.expectations.ExpectTableColumnsToMatchSet(
            column_set=list(columns), exact_match=False, description=f"{name} has every column of its contract",
        ))
    expectations += [
        CountedRowsExpectation(
            unexpected_rows_query=rule.unexpected_rows_query(), description=rule.reason,
            meta={"rule": rule.name, "column": rule.column, "severity": rule.severity},
        )
        for rule in rules
    ]
    return gx.ExpectationSuite(name=name, expectations=expectations)


def raw_suite(entity: str) -> gx.ExpectationSuite:
    """The raw-layer suite of an entity: contract columns present, then one expectation per row rule."""
    return rules_suite(f"raw.{entity}", raw_row_rules(entity), ENTITIES[entity].columns)
