"""Great Expectations really sees the DuckDB warehouse: checks pass on good data and fail on bad data."""

from __future__ import annotations

from pathlib import Path

import duckdb
import great_expectations as gx
import pytest

from quality.gx_duckdb import relation_batch_definition, warehouse_datasource


@pytest.fixture
def warehouse_file(tmp_path: Path) -> Path:
    """A warehouse with a clean and a damaged copy of a small orders table."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA staging")
        con.execute("CREATE TABLE staging.good AS SELECT * FROM (VALUES ('O1', 5), ('O2', 3), ('O3', 7)) t(order_id, qty)")
        con.execute("CREATE TABLE staging.bad AS SELECT * FROM (VALUES ('O1', 5), ('O2', -3), (NULL, 7), ('O1', -1))"
                    " t(order_id, qty)")
    return path


def suite() -> gx.ExpectationSuite:
    """Key present and unique, quantity not negative, the expected columns."""
    return gx.ExpectationSuite(name="orders", expectations=[
        gx.expectations.ExpectColumnValuesToNotBeNull(column="order_id"),
        gx.expectations.ExpectColumnValuesToBeUnique(column="order_id"),
        gx.expectations.ExpectColumnValuesToBeBetween(column="qty", min_value=0),
        gx.expectations.ExpectTableColumnsToMatchSet(column_set=["order_id", "qty"]),
    ])


def validate(warehouse: Path, relation: str):
    """Run the suite on one relation; return GX's result."""
    with warehouse_datasource(warehouse) as (context, datasource):
        batch = relation_batch_definition(datasource, relation).get_batch()
        return batch.validate(suite(), result_format="SUMMARY")


def test_clean_table_passes_every_expectation(warehouse_file):
    result = validate(warehouse_file, "staging.good")
    assert result.success
    assert [r.exception_info.get("raised_exception", False) for r in result.results] == [False] * 4


def test_bad_rows_fail_with_exact_unexpected_counts_and_values(warehouse_file):
    result = validate(warehouse_file, "staging.bad")
    assert not result.success
    outcome = {r.expectation_config.type: (r.success, r.result.get("unexpected_count")) for r in result.results}
    assert outcome == {
        "expect_column_values_to_not_be_null": (False, 1),
        "expect_column_values_to_be_unique": (False, 2),  # both O1 rows
        "expect_column_values_to_be_between": (False, 2),  # -3 and -1
        "expect_table_columns_to_match_set": (True, None),
    }
    between = next(r for r in result.results if r.expectation_config.type == "expect_column_values_to_be_between")
    assert sorted(between.result["partial_unexpected_list"]) == [-3, -1]


def test_a_writer_can_open_the_file_after_validation(warehouse_file):
    validate(warehouse_file, "staging.good")
    with duckdb.connect(str(warehouse_file)) as con:  # would fail while a read-only connection stays open
        con.execute("INSERT INTO staging.good VALUES ('O4', 1)")
        assert con.execute("SELECT count(*) FROM staging.good").fetchone() == (4,)
