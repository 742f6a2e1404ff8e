"""The staging rules on hand-made staging tables: which rows break a reference, and what a check shows of them."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingestion.contract import ENTITIES
from quality.rules.row_rule import RowRule
from quality.rules.staging import staging_relation, staging_rules
from quality.suites import rules_suite
from quality.validation import ExpectationOutcome, failing_samples, readable_error, validate_relation

LINES = "staging.stg_orders__order_items"


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """Two customers; orders O1 (C1), O2 (a guest: no customer), O3 (C9, unknown); lines of O1, O7 and none."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA staging")
        con.execute("CREATE TABLE staging.stg_crm__customers AS "
                    "SELECT * FROM (VALUES ('C1'), ('C2')) AS t(customer_id)")
        con.execute("CREATE TABLE staging.stg_orders__orders AS SELECT * FROM (VALUES "
                    "('O1', 'C1', 'CNY'), ('O2', NULL, 'CNY'), ('O3', 'C9', 'CNY')) "
                    "AS t(order_id, customer_id, currency)")
        con.execute(f"CREATE TABLE {LINES} AS SELECT * FROM (VALUES "
                    "('O1', 1, 'l.csv', 1), ('O1', 2, 'l.csv', 2), ('O7', 1, 'l.csv', 3), (NULL, 1, 'l.csv', 4)) "
                    "AS t(order_id, line_number, _source_file, _row_number)")
        con.execute("CREATE SCHEMA reference")
        con.execute("CREATE TABLE reference.fx_rates AS SELECT 'USD' AS currency, 7.1 AS rate_to_reporting")
    return path


def outcomes(warehouse: Path, entity: str, query: str | None = None) -> dict[str, ExpectationOutcome]:
    """{rule: outcome} of an entity's staging suite, run through Great Expectations as the check does."""
    relation = staging_relation(ENTITIES[entity])
    suite = rules_suite(relation, staging_rules(ENTITIES[entity], "CNY"))
    return {o.rule: o for o in validate_relation(warehouse, relation, suite, query=query).outcomes}


def counts(warehouse: Path, entity: str, query: str | None = None) -> dict[str, int]:
    """{rule: rows breaking it}, every rule having run without error."""
    result = outcomes(warehouse, entity, query)
    assert all(o.error is None for o in result.values())
    return {rule: o.unexpected_rows for rule, o in result.items()}


def test_a_reference_breaks_when_it_names_no_parent_or_is_empty_where_it_may_not_be(warehouse: Path):
    # A line of O7 (no such order) and a line without an order break; an order's customer C9 breaks,
    # the guest order O2 (customer_id may be empty in the contract) does not.
    assert counts(warehouse, "order_items") == {"stg_orders__order_items.key_unique": 0,
                                                "stg_orders__order_items.order_id_resolves": 2}
    assert counts(warehouse, "orders") == {"stg_orders__orders.key_unique": 0,
                                           "stg_orders__orders.customer_id_resolves": 1,
                                           "stg_orders__orders.one_currency": 0}
    # On a slice of the rows (a day's changed keys), only its own rows count.
    assert counts(warehouse, "order_items", f"SELECT * FROM {LINES} WHERE _row_number <= 2")[
        "stg_orders__order_items.order_id_resolves"] == 0
    assert counts(warehouse, "order_items", f"SELECT * FROM {LINES} WHERE _row_number >= 3")[
        "stg_orders__order_items.order_id_resolves"] == 2


def test_failing_rows_are_shown_by_file_and_row_and_a_rule_that_cannot_be_read_gets_a_note(warehouse: Path):
    (resolves,) = [rule for rule in staging_rules(ENTITIES["order_items"], "CNY") if rule.name.endswith("_resolves")]
    broken = RowRule("order_items.broken", "order_items", "order_id", "reads a table that is not there",
                     "order_id NOT IN (SELECT order_id FROM staging.no_such_table)")
    samples = failing_samples(warehouse, LINES, [resolves, broken])
    assert samples[resolves.name] == [{"file": "l.csv", "row": 3, "order_id": "O7"},
                                      {"file": "l.csv", "row": 4, "order_id": None}]
    (note,) = samples[broken.name]
    assert list(note) == ["examples not read"] and "no_such_table" in note["examples not read"]


def test_a_rule_that_cannot_run_is_named_with_its_error_and_the_other_rules_still_count(warehouse: Path):
    # Without reference.fx_rates the currency rule's query fails; DuckDB aborts the transaction of the
    # connection GX runs every rule on, and the rules after it must still run and count.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("DROP TABLE reference.fx_rates")
    result = outcomes(warehouse, "orders")
    currency = result["stg_orders__orders.one_currency"]
    assert not currency.success and currency.unexpected_rows is None
    assert currency.error == "(_duckdb.CatalogException) Catalog Error: Table with name fx_rates does not exist!"
    assert {rule: (o.success, o.unexpected_rows, o.error) for rule, o in result.items() if o is not currency} == {
        "stg_orders__orders.key_unique": (True, 0, None),
        "stg_orders__orders.customer_id_resolves": (False, 1, None)}


def test_an_error_is_one_line_and_running_out_of_memory_says_what_to_change():
    message = "Out of Memory Error: could not allocate block of size 256.0 KiB (9.3 GiB/9.3 GiB used)\n\nPossible"
    assert readable_error(message) == (
        "Out of Memory Error: could not allocate block of size 256.0 KiB (9.3 GiB/9.3 GiB used) (DuckDB reached "
        "its memory limit: raise RETENTION_DUCKDB_MEMORY_LIMIT, or leave more free disk next to the warehouse "
        "for it to spill to)")
    assert readable_error("Catalog Error: Table with name t does not exist!\nDid you mean") == \
        "Catalog Error: Table with name t does not exist!"


def test_a_changed_parent_puts_its_children_in_the_slice_only_when_it_has_gone(warehouse: Path):
    """The staging check's slice (quality/slices.py): the rows whose own key changed, and the rows naming a
    changed parent key that the parent's staging model no longer has."""
    from ingestion.raw.changes import changed_rows_query, ensure_change_log, record_changed_keys

    orders = ENTITIES["orders"]
    present = {"customers": f"SELECT customer_id FROM {staging_relation(ENTITIES['customers'])}"}
    touched = [("order_id", "orders"), ("customer_id", "customers")]
    with duckdb.connect(str(warehouse)) as con:
        ensure_change_log(con)
        # C1 has a new version (still staged), C9 left staging; O3 itself changed.
        record_changed_keys(con, "customers", "SELECT * FROM (VALUES ('C1'), ('C9')) AS t(k)")
        record_changed_keys(con, "orders", "SELECT 'O2'")

        def slice_ids(present_keys: dict[str, str] | None) -> list[str]:
            query = changed_rows_query(staging_relation(orders), touched, 0, present_keys)
            return [order_id for (order_id,) in con.execute(f"SELECT order_id FROM ({query}) ORDER BY 1").fetchall()]

        assert slice_ids(present) == ["O2", "O3"]        # O1's customer C1 is still there: not looked at again
        assert slice_ids(None) == ["O1", "O2", "O3"]     # without `present`: every changed parent key
