"""Mapped exports through a whole run: guest orders, orders without lines, a source's own status words,
the chosen currency and the warnings, as the marts and the summary show them."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from orchestration.summary import WarehouseSummary, format_summary

pytestmark = pytest.mark.slow

def test_guests_line_less_orders_and_source_status_words_through_a_run(settings, probe_run):
    # The probe run loaded the exports of tests/probes.py (shop_lines.csv, orders_only.csv) with their mappings.
    outcome = probe_run
    assert outcome.success, outcome.failures
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute(
            "SELECT order_id, customer_id, order_status, source_status, is_guest, line_count, net_revenue "
            "FROM marts.fct_orders WHERE order_id IN ('M1', 'M2', 'M3', 'N1', 'N2', 'N3') ORDER BY order_id"
        ).fetchall() == [
            ("M1", "C1", "completed", "Fulfilled - Paid", False, 2, Decimal("2050.00")),  # 2 x 1,000.00 + 50.00
            ("M2", None, "completed", "Fulfilled - Paid", True, 1, Decimal("20.00")),
            ("M3", "C2", "pending", "on hold", False, 1, Decimal("5.00")),
            ("N1", "C3", "cancelled", "cancelled", False, 0, None),  # not completed, no lines, no total
            ("N3", None, "completed", "completed", True, 0, Decimal("15.00")),
        ]
        # N2 is completed with neither lines nor a total: quarantined with its own reason.
        assert con.execute("SELECT order_id, _quarantine_rule, _source_file, _row_number FROM quarantine.orders"
                           ).fetchall() == [("N2", "orders.revenue_known", "exports/orders_only.csv", 2)]
        # Guests are in no customer mart; every customer's revenue still reconciles with fct_orders.
        assert con.execute("SELECT count(*) FROM marts.customer_lifetime_value WHERE customer_id IS NULL"
                           ).fetchone() == (0,)
        assert con.execute(
            "SELECT historical_revenue FROM marts.customer_lifetime_value WHERE customer_id = 'C1'").fetchone() == \
            con.execute("SELECT sum(net_revenue) FROM marts.fct_orders WHERE customer_id = 'C1' AND is_completed"
                        ).fetchone()
        completed, revenue = con.execute(
            "SELECT count(*), sum(net_revenue) FROM marts.fct_orders WHERE is_completed").fetchone()
        assert con.execute("SELECT * FROM intermediate.int_reporting_currency").fetchone() == (
            "CNY", "the one currency of all orders")
    guest_share, revenue_share = 2 / completed, Decimal("35.00") / revenue
    summary = " ".join(outcome.summary.split())
    assert (f"guest orders 2 ({guest_share:.1%} of completed orders, 35.00 CNY = {float(revenue_share):.1%} of net "
            "revenue; in the totals, in no customer mart)") in summary
    assert "(completed orders; currency: the one currency of all orders)" in summary
    # The unknown status is a warning of the run, named with its rule, file and row.
    (orders_warning,) = [w for w in outcome.warnings if w.startswith("check raw_rules on raw/orders warns")]
    assert ("status is neither in seeds/order_status_map.csv nor in its source's statuses (sources file), so the "
            "order counts as pending") in orders_warning
    assert "'file': 'exports/shop_lines.csv'" in orders_warning and "'row': 4" in orders_warning
    assert outcome.checks_failed == 0 and outcome.checks_warned == len(outcome.warnings) >= 1


def test_a_summary_without_marts_does_not_claim_zero_completed_orders(tmp_path):
    summary = WarehouseSummary(tmp_path / "w.duckdb", {}, customers=7, orders=12, completed_orders=None,
                               completed_revenue=None, currency=None)
    assert "orders 12 (completed: not known, the marts were not built)" in " ".join(format_summary(summary).split())
