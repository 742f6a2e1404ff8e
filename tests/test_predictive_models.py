"""BG/NBD and Gamma-Gamma reproduce the published CDNOW estimates, and stay finite for heavy buyers."""

from __future__ import annotations

import numpy as np
import pytest

from orchestration.predictive import bgnbd, cdnow, gamma_gamma

pytest.importorskip("lifetimes", reason="the CDNOW data ships with lifetimes (dev extra): scripts/bootstrap")


@pytest.fixture(scope="module")
def calibration() -> cdnow.CalibrationData:
    return cdnow.calibration_data()


def test_the_cdnow_sample_is_the_papers(calibration):
    purchases = calibration.purchases
    # 2,357 customers, 946 of whom repeat in the 39 calibration weeks (Fader, Hardie and Lee 2005).
    assert len(purchases.frequency) == 2357
    assert int((purchases.frequency > 0).sum()) == 946
    assert purchases.age.max() == pytest.approx(272 / 7)


def test_bgnbd_reproduces_the_published_estimates_within_one_percent(calibration):
    fit = bgnbd.fit(calibration.purchases)
    for name, published in cdnow.PUBLISHED_BGNBD.items():
        assert fit.params[name] == pytest.approx(published, rel=0.01), name
    assert fit.log_likelihood == pytest.approx(cdnow.PUBLISHED_BGNBD_LOG_LIKELIHOOD, abs=0.05)
    assert fit.converged


def test_gamma_gamma_reproduces_the_published_estimates_within_one_percent(calibration):
    repeat = calibration.purchases.frequency > 0
    fit = gamma_gamma.fit(calibration.purchases.frequency[repeat], calibration.average_repeat_value[repeat])
    for name, published in cdnow.PUBLISHED_GAMMA_GAMMA.items():
        assert fit.params[name] == pytest.approx(published, rel=0.01), name


def test_conditional_expectation_matches_the_papers_worked_example():
    # The paper's customer: x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in the next 39 weeks.
    one = bgnbd.RepeatPurchases(np.array([2.0]), np.array([30.43]), np.array([38.86]))
    assert bgnbd.expected_purchases(cdnow.PUBLISHED_BGNBD, one, 39.0)[0] == pytest.approx(1.226, abs=0.001)
    # Without repeat purchases nothing says the customer left: P(alive) = 1.
    none = bgnbd.RepeatPurchases(np.array([0.0]), np.array([0.0]), np.array([38.86]))
    assert bgnbd.probability_alive(cdnow.PUBLISHED_BGNBD, none)[0] == 1.0


def test_log_likelihood_is_finite_for_very_frequent_buyers():
    heavy = bgnbd.RepeatPurchases(np.array([5_000.0, 20_000.0]), np.array([100.0, 104.0]), np.array([104.0, 104.0]))
    values = bgnbd.log_likelihood_per_customer(cdnow.PUBLISHED_BGNBD, heavy)
    assert np.all(np.isfinite(values))
    alive = bgnbd.probability_alive(cdnow.PUBLISHED_BGNBD, heavy)
    assert np.all((alive >= 0) & (alive <= 1))
    spend = gamma_gamma.log_likelihood_per_customer(cdnow.PUBLISHED_GAMMA_GAMMA, np.array([20_000.0]),
                                                    np.array([35.0]))
    assert np.isfinite(spend[0])


def test_grouped_rows_give_the_same_likelihood_as_repeated_rows(calibration):
    purchases = calibration.purchases
    triples = np.stack([purchases.frequency, purchases.recency, purchases.age], axis=1)
    unique, counts = np.unique(triples, axis=0, return_counts=True)
    grouped = bgnbd.RepeatPurchases(unique[:, 0], unique[:, 1], unique[:, 2], counts.astype(float))
    assert bgnbd.log_likelihood(cdnow.PUBLISHED_BGNBD, grouped) == pytest.approx(
        bgnbd.log_likelihood(cdnow.PUBLISHED_BGNBD, purchases), rel=1e-12)


def test_daily_runs_score_with_the_last_fit_and_refit_after_the_refit_days(tmp_path, settings):
    from datetime import date

    import dagster as dg
    import duckdb

    from ingestion.demo import generate_demo_data
    from orchestration.assets.predictive import StoredFit, customer_predictions, refit_reason
    from orchestration.resources.dbt import dbt_cli_resource
    from orchestration.resources.marts import MartSettings
    from orchestration.resources.predictions import PredictionSettings
    from orchestration.resources.warehouse import DuckDBWarehouse

    landing = tmp_path / "landing"
    generate_demo_data(landing, customers=400, seed=7)
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA intermediate")
        con.execute("CREATE SCHEMA marts")
        # What the asset reads of the order fact: completed orders with their day and revenue.
        con.execute(f"CREATE TABLE intermediate.int_orders AS SELECT customer_id, "
                    f"CAST(ordered_at AT TIME ZONE 'UTC' AS DATE) AS order_date, order_total AS net_revenue, "
                    f"status = 'completed' AS is_completed, false AS is_guest "
                    f"FROM read_parquet('{landing}/orders/*.parquet')")
        con.execute("CREATE TABLE intermediate.int_as_of_date AS SELECT DATE '2025-12-01' AS as_of_date")
        # What the asset scores with: the per-customer purchase days up to T (dbt's int_customer_orders).
        con.execute("CREATE VIEW intermediate.int_customer_orders AS "
                    "WITH days AS (SELECT customer_id, order_date AS day, sum(net_revenue) AS revenue "
                    "FROM intermediate.int_orders, intermediate.int_as_of_date "
                    "WHERE is_completed AND NOT is_guest AND order_date <= as_of_date GROUP BY ALL) "
                    "SELECT customer_id, count(*) AS purchase_days, min(day) AS first_order_date, "
                    "max(day) AS last_order_date, sum(revenue) AS revenue, arg_min(revenue, day) AS first_day_revenue "
                    "FROM days GROUP BY ALL")
        con.execute("CREATE TABLE intermediate.int_reporting_currency AS SELECT 'CNY' AS reporting_currency")

    def run(as_of: str, full_refresh: bool = False) -> dict:
        with duckdb.connect(str(warehouse)) as con:
            con.execute("UPDATE intermediate.int_as_of_date SET as_of_date = ?", [as_of])
        result = dg.materialize([customer_predictions], resources={
            "warehouse": DuckDBWarehouse(path=str(warehouse)),
            "prediction_settings": PredictionSettings(refit_days=7),
            "mart_settings": MartSettings(full_refresh=full_refresh), "dbt": dbt_cli_resource(settings)})
        (materialization,) = result.asset_materializations_for_node("marts__customer_predictions")
        return {key: value.value for key, value in materialization.metadata.items()}

    def fit_table() -> list[tuple]:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute("SELECT * FROM marts.predictive_model_fit ORDER BY ALL").fetchall()

    first = run("2025-12-01")
    assert first["refit"] == "no earlier fit" and first["fitted as of"] == "2025-12-01"
    fitted = fit_table()
    # Six days later: scored with the same parameters, the fit and its holdout check untouched.
    later = run("2025-12-07")
    assert later["refit"] == "no: the last fit serves" and later["fitted as of"] == "2025-12-01"
    assert later["bgnbd"] == first["bgnbd"] and fit_table() == fitted
    # Seven days after the fit, and when asked: fitted again.
    assert run("2025-12-08")["refit"] == "T is 7 days past the last fit (RETENTION_REFIT_DAYS=7)"
    assert run("2025-12-08", full_refresh=True)["refit"] == "full refresh"
    # Amounts in another currency: Gamma-Gamma's scale is money, so the next day refits.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE intermediate.int_reporting_currency SET reporting_currency = 'EUR'")
    assert run("2025-12-09")["refit"].startswith("the reporting currency, the dbt definitions or the code changed")

    # The other reasons, by hand.
    fit = StoredFit({"r": 1.0}, {"p": 1.0}, date(2025, 12, 8), customers=1000, holdout_weeks=26, inputs="x")
    assert refit_reason(fit, date(2025, 12, 7), 1000, 26, 7, False, "x").startswith("T (2025-12-07) is before")
    assert refit_reason(fit, date(2025, 12, 9), 1051, 26, 7, False, "x") == \
        "1,051 customers against 1,000 at the last fit"
    assert refit_reason(fit, date(2025, 12, 9), 1050, 26, 7, False, "x") is None
    assert refit_reason(fit, date(2025, 12, 9), 1000, 13, 7, False, "x").startswith("holdout of 13 weeks")
    assert refit_reason(fit, date(2025, 12, 8), 1000, 26, 0, False, "x").startswith("T is 0 days past")
    assert refit_reason(fit, date(2025, 12, 9), 1000, 26, 7, False, "y").startswith("the reporting currency")
