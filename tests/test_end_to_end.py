"""The whole graph materialised in-process through Dagster on the tiny hand-computed landing set."""

from __future__ import annotations

import duckdb
import pytest
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.runs.refresh import run_refresh
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

    second = run_refresh(settings, persist_run=False)
    assert second.success, second.failures
    assert layer_counts(settings) == counts


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
