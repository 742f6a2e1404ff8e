"""churn_risk and the predictive columns of dim_customers on the hand-computed mart fixture.

T = 2025-03-15 (Asia/Shanghai). Windows: the last 90 days are (Dec 15, Mar 15],
the 90 before (Sep 16, Dec 15]; the complaint window is set to 90 days here so
that C02's complaint of Dec 20 counts. Hand-made predictions: C03 P(alive) 0.2,
C05 0.1 (value 123.45), C12 0.9.

| customer | purchase days (completed)        | signals                                                  | level  |
|----------|----------------------------------|----------------------------------------------------------|--------|
| C01      | Nov 10, Dec 10, Jan 10, Mar 10   | latest NPS 6 (Mar 5): detractor                          | low    |
| C02      | Oct 20, Dec 15                   | orders 2 -> 0 (Dec 15 is in the earlier window); complaint | medium |
| C03      | Nov 1, Jan 5                     | P(alive) 0.2                                             | low    |
| C04      | Nov 5 (void and returned orders do not count) | orders 1 -> 0                               | low    |
| C05      | Dec 30, Jan 2 (median gap 3)     | 72 days since > 2 x 3; P(alive) 0.1                      | high   |
| C09      | Oct 10                           | orders 1 -> 0; latest NPS 3                              | medium |
| C10      | Oct 15                           | orders 1 -> 0 (latest NPS 9; the 10 of Mar 20 is after T) | low    |

Not at risk: C12 (gaps 194 and 9 days, median 101.5; 14 days since), C07 (its NPS 11 was
quarantined), C11 (bought on T), C06 and C08 (no completed order; C06's NPS is 7).
"""

from __future__ import annotations

import duckdb
import pytest

from tests.mart_fixture import build_marts_with_predictions

pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory):
    """The fixture with hand-made predictions, churn_risk and dim_customers rebuilt on them."""
    con = duckdb.connect(str(build_marts_with_predictions(tmp_path_factory.mktemp("churn"))), read_only=True)
    yield con
    con.close()


def test_each_signal_and_the_level_rule(churn):
    rows = churn.execute("""
        SELECT customer_id, risk_level, signal_count, is_overdue, is_ordering_less, is_detractor, is_complaining,
               is_unlikely_alive
        FROM marts.churn_risk ORDER BY customer_id
    """).fetchall()
    assert rows == [
        ("C01", "low", 1, False, False, True, False, False),
        ("C02", "medium", 2, False, True, False, True, False),
        ("C03", "low", 1, False, False, False, False, True),
        ("C04", "low", 1, False, True, False, False, False),
        ("C05", "high", 2, True, False, False, False, True),
        ("C09", "medium", 2, False, True, True, False, False),
        ("C10", "low", 1, False, True, False, False, False),
    ]


def test_reasons_value_at_risk_and_owner(churn):
    c05 = churn.execute("""
        SELECT reasons, value_at_risk, account_owner, days_since_last_purchase, median_interval_days
        FROM marts.churn_risk WHERE customer_id = 'C05'
    """).fetchone()
    assert c05 == ("no purchase for 72 days (usual interval 3.0), P(alive) 0.1", 123.45, "王芳", 72, 3.0)
    assert churn.execute("SELECT reasons FROM marts.churn_risk WHERE customer_id = 'C02'").fetchone() == (
        "orders down from 2 to 0 in 90 days, 1 complaints in 90 days",)
    assert churn.execute("SELECT median_interval_days FROM marts.churn_risk WHERE customer_id = 'C01'").fetchone() \
        == (31.0,)


def test_dim_customers_carries_the_predictions_and_the_risk_level(churn):
    rows = dict((r[0], r[1:]) for r in churn.execute(
        "SELECT customer_id, p_alive, predicted_clv, churn_risk_level FROM marts.dim_customers").fetchall())
    assert rows["C05"] == (0.1, 123.45, "high")
    assert rows["C12"] == (0.9, 900.0, None)
    assert rows["C06"] == (None, None, None)
    assert len(rows) == 12


def test_the_mart_rules_hold_on_churn_risk(churn):
    from quality.rules.marts import MART_RULES

    for rule in MART_RULES["churn_risk"]:
        query = rule.unexpected_rows_query("marts.churn_risk")
        assert churn.execute(f"SELECT count(*) FROM ({query})").fetchone() == (0,), rule.name
