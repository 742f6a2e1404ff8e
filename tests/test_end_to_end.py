"""The whole graph materialised in-process through Dagster on the tiny hand-computed landing set."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import duckdb
import pytest
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.runs.refresh import run_refresh
from orchestration.serving.readers import open_published
from orchestration.summary import warehouse_summary
from tests.fixtures import COMPLETED_ORDERS, COMPLETED_REVENUE, RAW_ROWS, STAGING_ROWS

pytestmark = pytest.mark.slow


def layer_counts(settings) -> dict[str, int]:
    """Rows per raw and staging table of the settings' warehouse."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return warehouse_summary(con, settings.warehouse_path).rows_by_table


def test_full_run_then_rerun_is_idempotent(settings, tiny_run):
    first = tiny_run
    assert first.checks_failed == 0 and first.checks_passed >= 20

    counts = layer_counts(settings)
    assert {k.removeprefix("raw."): v for k, v in counts.items() if k.startswith("raw.")} == RAW_ROWS
    assert {k.removeprefix("staging."): v for k, v in counts.items() if k.startswith("staging.")} == STAGING_ROWS

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        summary = warehouse_summary(con, settings.warehouse_path)
        # C1's latest version (updated 2024-06-01) wins; O1 at 23:30 UTC stays on the 5th in UTC.
        assert con.execute("SELECT city FROM staging.stg_crm__customers WHERE customer_id = 'C1'").fetchone() == ("London",)
        assert con.execute("SELECT customer_name, city FROM staging.stg_crm__customers WHERE customer_id = 'C5'").fetchone() == ("张伟", "北京")
        statuses = dict(con.execute("SELECT order_id, order_status FROM staging.stg_orders__orders").fetchall())
        assert statuses == {"O1": "completed", "O2": "completed", "O3": "cancelled", "O4": "refunded",
                            "O5": "completed", "O6": "pending"}
        (email_hash,) = con.execute("SELECT email_hash FROM staging.stg_crm__customers WHERE customer_id = 'C2'").fetchone()
        assert len(email_hash) == 64 and "bob" not in email_hash
    assert (summary.customers, summary.orders, summary.completed_orders) == (6, 6, COMPLETED_ORDERS)
    assert summary.completed_revenue == pytest.approx(COMPLETED_REVENUE, abs=0.001)

    report = settings.report_path.read_bytes()
    second = run_refresh(settings, persist_run=False)
    assert second.success, second.failures
    assert layer_counts(settings) == counts
    # Nothing new: no model work. The checks on staging (which record their counts) did not run, the
    # publication and the report are the first run's, and the run says why.
    assert any(note.startswith("nothing new since the last complete run") for note in second.notes), second.notes
    assert reconciled_runs(settings) == [first.run_id]
    assert publication_run(settings) == first.run_id and settings.report_path.read_bytes() == report

    # A moved as-of date is new for the marts: the model layers run again and publish.
    third = run_refresh(dataclasses.replace(settings, as_of_date="2024-02-29"), persist_run=False)
    assert third.success and third.notes == [], (third.failures, third.notes)
    assert publication_run(settings) == third.run_id
    with open_published(settings.serving_path) as con:
        # O1 and O2 (C1) are the completed orders up to Feb 29; O5 (Mar 10) is after T.
        assert con.execute("SELECT count(*), sum(net_revenue) FROM marts.fct_orders WHERE is_completed").fetchone() \
            == (2, Decimal("41.00"))


def reconciled_runs(settings) -> list[str]:
    """The runs that recorded reconciliation counts, oldest first."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return [run for (run,) in con.execute(
            "SELECT run_id FROM quality.reconciliation GROUP BY run_id ORDER BY min(checked_at)").fetchall()]


def publication_run(settings) -> str:
    """The run whose marts readers see."""
    with open_published(settings.serving_path) as con:
        return con.execute("SELECT run_id FROM marts._publication").fetchone()[0]


def test_status_command_prints_the_summary(settings, tiny_run):
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 0, result.output
    assert "net revenue" in result.output and "136.00 CNY" in result.output
    assert f"Latest run {tiny_run.run_id[:8]}" in result.output and "succeeded" in result.output


def test_unreadable_file_fails_the_run_with_the_file_named(settings, tiny_landing):
    (tiny_landing / "orders" / "broken.parquet").write_bytes(b"not a parquet file")
    outcome = run_refresh(settings, persist_run=False)
    assert not outcome.success
    assert any("orders/broken.parquet" in m and "raw__orders" in m for m in outcome.failures), outcome.failures
