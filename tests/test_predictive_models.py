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
