"""Quality gates end to end: each defect class is quarantined with its reason, counts reconcile,
a load above the bad-share limit stops before the marts, and failing staging or mart rules block.

Expected figures are the generator's exact defect counts or the hand-made rows written here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest

from ingestion.contract import ENTITIES
from ingestion.demo import generate_demo_data
from orchestration.runs.refresh import run_refresh
from quality.rules.marts import MART_RULES
from quality.suites import rules_suite
from quality.validation import failing_samples, validate_relation
from tests.fixtures import STAGING_ROWS, write_usd_orders

pytestmark = pytest.mark.slow


def rule_count(con: duckdb.DuckDBPyConnection, entity: str, rule: str) -> int:
    """Quarantined rows of an entity that break `rule` (alone or with others)."""
    return con.execute(
        f"SELECT count(*) FROM quarantine.{entity} WHERE list_contains(string_split(_quarantine_rule, ', '), ?)",
        [rule],
    ).fetchone()[0]


def reconciliation_rows(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, tuple]:
    """{entity: (received, staged, quarantined, exact duplicates, superseded, balances)} of one run."""
    rows = con.execute(
        "SELECT entity, received, staged, quarantined, exact_duplicates, superseded, balances "
        "FROM quality.reconciliation WHERE run_id = ?", [run_id],
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


def test_defects_under_the_limit_are_quarantined_exactly_and_the_marts_build(settings):
    report = generate_demo_data(settings.landing_dir, customers=1000, seed=11, defect_rate=0.004)
    outcome = run_refresh(settings, persist_run=False)
    assert outcome.success, outcome.failures
    defects = report.defects
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        expected = {
            ("orders", "orders.ordered_at_parses"): defects["orders"]["bad_timestamp"],
            ("orders", "orders.ordered_at_not_in_future"): defects["orders"]["future_timestamp"],
            ("orders", "orders.order_discount_not_negative"): defects["orders"]["negative_amount"],
            ("orders", "orders.order_discount_is_number"): defects["orders"]["wrong_type"],
            ("orders", "orders.key_unique_in_file"): 2 * defects["orders"]["duplicate_id"],
            ("orders", "orders.customer_id_known"): defects["orders"]["orphan_customer"],
            ("orders", "orders.order_id_present"): defects["orders"]["missing_key"],
            ("order_items", "order_items.order_id_known"):
                defects["order_items"]["orphan_order"] + defects["order_items"]["missing_key"],
            ("survey_responses", "survey_responses.score_on_scale"): defects["survey_responses"]["out_of_scale_score"],
            ("survey_responses", "survey_responses.score_is_integer"): defects["survey_responses"]["wrong_type"],
            ("customers", "customers.key_unique_in_file"): 2 * defects["customers"]["duplicate_id"],
        }
        found = {key: rule_count(con, *key) for key in expected}
        assert found == expected
        assert all(count > 0 for count in expected.values())
        # The reason travels with the row, in words.
        assert con.execute(
            "SELECT DISTINCT _quarantine_reason FROM quarantine.survey_responses "
            "WHERE _quarantine_rule = 'survey_responses.score_on_scale'"
        ).fetchall() == [("score is outside its survey's scale",)]
        # Exact duplicates are not quarantined: staging keeps one copy and the reconciliation counts the others.
        recon = reconciliation_rows(con, outcome.run_id)
        assert set(recon) == set(ENTITIES)
        for entity, (received, staged, quarantined, exact, superseded, balances) in recon.items():
            assert balances and received == staged + quarantined + exact + superseded, entity
        assert recon["orders"][3] == defects["orders"]["exact_duplicate"]
        assert recon["order_items"][3] == defects["order_items"]["exact_duplicate"]
        # ... and the marts were built from the clean rows.
        staged_orders = con.execute("SELECT count(*) FROM staging.stg_orders__orders").fetchone()[0]
        assert con.execute("SELECT count(*) FROM marts.fct_orders").fetchone()[0] == staged_orders > 0
        # The predictive models ran on them too: one prediction per buyer, and the holdout's actual repeat
        # purchases equal the purchase days after the calibration end of customers who bought before it.
        assert con.execute("SELECT count(*), min(p_alive) >= 0, max(p_alive) <= 1 FROM marts.customer_predictions"
                           ).fetchone() == (con.execute("SELECT count(*) FROM marts.customer_rfm").fetchone()[0],
                                            True, True)
        calibration_end, actual = con.execute(
            "SELECT calibration_end, actual_repeat_purchases FROM marts.predictive_holdout_accuracy").fetchone()
        assert actual == con.execute("""
            SELECT count(DISTINCT (customer_id, order_date)) FROM marts.fct_orders
            WHERE is_completed AND order_date > ? AND customer_id IN (
                SELECT customer_id FROM marts.fct_orders WHERE is_completed AND order_date <= ?)
        """, [calibration_end, calibration_end]).fetchone()[0] > 0


def test_a_file_above_the_limit_is_refused_and_nothing_reaches_the_marts(settings):
    generate_demo_data(settings.landing_dir, customers=1000, seed=12, defect_rate=0.05)
    outcome = run_refresh(settings, persist_run=False)
    assert not outcome.success
    (refusal,) = [m for m in outcome.failures if m.startswith("raw__customers:")]
    assert "customers/customers_0001.csv:" in refusal and "more than the 1.00% allowed" in refusal
    assert "  - customer_id is missing: 10 rows, first row 50 (customer_id empty)" in refusal
    assert "the file was not loaded" in refusal
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.customers").fetchone() == (0,)
        assert con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts'"
        ).fetchone() == (0,)


def write_case_files(landing: Path) -> None:
    """One clean customer, order, line and survey, plus one file per defect class."""
    def write(entity: str, name: str, text: str, encoding: str = "utf-8") -> None:
        (landing / entity).mkdir(parents=True, exist_ok=True)
        (landing / entity / name).write_bytes(text.encode(encoding))

    header = {entity: ",".join(spec.columns) for entity, spec in ENTITIES.items()}
    write("customers", "a.csv", header["customers"] + "\n"
          "C1,Alice,a@x.com,,,,UK,Leeds,referral,Ann,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z\n")
    write("customers", "cn.csv", header["customers"] + "\n"
          "C2,张伟,,,,,China,北京,social,王芳,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z\n", "gb18030")
    broken = (header["customers"] + "\n").encode("gb18030") + \
        "C3,李娜,,,,,China,".encode("gb18030") + b"\x81" + ",social,x,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z\n".encode()
    (landing / "customers" / "broken.csv").write_bytes(broken)
    write("orders", "a.csv", header["orders"] + "\n"
          "O1,C1,2024-02-01T10:00:00Z,paid,CNY,0,10.00,app\n"
          "O2,C1,2024-02-02T10:00:00Z,paid,CNY,abc,10.00,app\n"        # wrong type
          "O3,C1,2024-02-03T10:00:00Z,paid,CNY,-5.00,10.00,app\n"      # negative amount
          "O4,C1,2091-02-03T10:00:00Z,paid,CNY,0,10.00,app\n"          # future date
          "O5,C1,2024-02-05T10:00:00Z,paid,CNY,0,10.00,app\n"          # duplicate id ...
          "O5,C1,2024-02-05T10:00:00Z,cancelled,CNY,0,10.00,app\n"     # ... with other content
          "O6,C404,2024-02-06T10:00:00Z,paid,CNY,0,10.00,app\n")       # orphan order
    write("order_items", "a.csv", header["order_items"] + "\n"
          "O1,1,P1,Books,1,10.00,0\nO5,1,P1,Books,1,10.00,0\nO99,1,P1,Books,1,10.00,0\n")
    write("survey_responses", "a.csv", header["survey_responses"] + "\n"
          "R1,C1,nps,9,2024-03-01T00:00:00Z,ok\nR2,C1,nps,11,2024-03-02T00:00:00Z,eleven\n")


def test_each_defect_class_lands_in_quarantine_with_its_reason(settings):
    write_case_files(settings.landing_dir)
    outcome = run_refresh(dataclasses.replace(settings, max_bad_share=1.0), persist_run=False)
    assert outcome.success, outcome.failures
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute("""
            SELECT 'orders', _source_file, _row_number, _quarantine_rule FROM quarantine.orders
            UNION ALL SELECT 'order_items', _source_file, _row_number, _quarantine_rule FROM quarantine.order_items
            UNION ALL SELECT 'survey_responses', _source_file, _row_number, _quarantine_rule
                FROM quarantine.survey_responses
            UNION ALL SELECT 'customers', _source_file, _row_number, _quarantine_rule FROM quarantine.customers
            ORDER BY 1, 2, 3
        """).fetchall()
        assert rows == [
            ("customers", "customers/broken.csv", 1, "customers.text_decodes"),
            ("order_items", "order_items/a.csv", 2, "order_items.order_id_accepted"),
            ("order_items", "order_items/a.csv", 3, "order_items.order_id_known"),
            ("orders", "orders/a.csv", 2, "orders.order_discount_is_number"),
            ("orders", "orders/a.csv", 3, "orders.order_discount_not_negative"),
            ("orders", "orders/a.csv", 4, "orders.ordered_at_not_in_future"),
            ("orders", "orders/a.csv", 5, "orders.key_unique_in_file"),
            ("orders", "orders/a.csv", 6, "orders.key_unique_in_file"),
            ("orders", "orders/a.csv", 7, "orders.customer_id_known"),
            ("survey_responses", "survey_responses/a.csv", 2, "survey_responses.score_on_scale"),
        ]
        assert con.execute("SELECT customer_name FROM staging.stg_crm__customers ORDER BY 1").fetchall() == [
            ("Alice",), ("张伟",)]
        assert con.execute("SELECT order_id FROM marts.fct_orders").fetchall() == [("O1",)]
        recon = reconciliation_rows(con, outcome.run_id)
        assert recon["orders"] == (7, 1, 6, 0, 0, True)
        assert recon["customers"] == (3, 2, 1, 0, 0, True)


def test_a_failing_staging_rule_blocks_the_marts_and_says_where(settings, tiny_landing):
    write_usd_orders(tiny_landing)
    outcome = run_refresh(settings, persist_run=False)
    assert not outcome.success
    (blocked,) = [m for m in outcome.failures if m.startswith("check staging_rules")]
    # No reporting currency is set, and the orders are in CNY and USD: the order outside the common
    # currency is named, with how to set one.
    assert blocked.startswith("check staging_rules on staging/stg_orders__orders failed: staging_rules on "
                              "staging.stg_orders__orders: staging.stg_orders__orders: 1 rows: the orders are in "
                              "more than one currency and no reporting currency is set: set the reporting currency "
                              "(RETENTION_REPORTING_CURRENCY=EUR, or retention run --currency EUR)")
    assert "'currency': 'USD'" in blocked and "'row': 1" in blocked and "orders/usd.csv" in blocked
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM staging.stg_orders__orders").fetchone()[0] == \
            STAGING_ROWS["stg_orders__orders"] + 7
        assert con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts'"
        ).fetchone() == (0,)


def test_mart_rules_catch_a_broken_mart(settings, tiny_landing):
    assert run_refresh(settings, persist_run=False).success
    suite = rules_suite("marts.cohort_retention", MART_RULES["cohort_retention"])
    assert validate_relation(settings.warehouse_path, "marts.cohort_retention", suite).success
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("UPDATE marts.cohort_retention SET retention_rate = 1.5, revenue = revenue + 0.01 "
                    "WHERE grain = 'month' AND period_number = 0 AND cohort_period = DATE '2024-01-01'")
    outcome = validate_relation(settings.warehouse_path, "marts.cohort_retention", suite)
    assert {o.rule: o.unexpected_rows for o in outcome.failed} == {
        "cohort_retention.rates_in_bounds": 1,
        "cohort_retention.cohort_starts_fully_retained": 1,
        "cohort_retention.revenue_reconciles": 1,
    }


def staging_checks_of_a_run(settings) -> dict[str, tuple[bool, int]]:
    """Run the job once; per staging model, whether its staging_rules check passed and how many rows it examined."""
    import dagster as dg

    from orchestration.definitions import build_definitions
    from orchestration.jobs.refresh import refresh_warehouse_job

    job = build_definitions(settings).resolve_job_def(refresh_warehouse_job.name)
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    return {evaluation.asset_key.path[-1]: (evaluation.passed, evaluation.metadata["rows examined"].value)
            for evaluation in result.get_asset_check_evaluations() if evaluation.check_name == "staging_rules"}


def test_staging_checks_examine_the_changed_keys_and_a_failure_again(settings, tiny_run):
    # Seven new orders of C1 (one in USD) after the tiny run, whose staging checks passed: only the seven
    # orders are examined (no line, customer, interaction or response changed), and the USD one fails.
    write_usd_orders(settings.landing_dir)
    examined = staging_checks_of_a_run(settings)
    assert examined == {"stg_orders__orders": (False, 7), "stg_orders__order_items": (True, 0),
                        "stg_crm__customers": (True, 0), "stg_crm__interactions": (True, 0),
                        "stg_surveys__survey_responses": (True, 0)}
    # Nothing new, but the failed check has not moved past the seven orders: it examines them again.
    assert staging_checks_of_a_run(settings)["stg_orders__orders"] == (False, 7)


def test_samples_of_no_failed_rule_leave_the_warehouse_unopened(tmp_path: Path):
    # A check that passed asks for the samples of no rule: nothing is opened (the file need not even exist).
    missing = tmp_path / "never_created.duckdb"
    assert failing_samples(missing, "raw.orders", []) == {}
    assert not missing.exists()
