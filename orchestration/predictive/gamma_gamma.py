"""The Gamma-Gamma spend model (Fader, Hardie and Lee 2005, "RFM and CLV"; Fader and Hardie 2013 note).

A customer's transactions are Gamma(p, nu) distributed around their own mean,
with nu ~ Gamma(q, gamma) across customers. Fitted on customers with at least
one repeat purchase: x repeat transactions with average value m_x.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from orchestration.predictive.fitting import Fit, fit_positive

PARAMS = ("p", "q", "gamma")


def log_likelihood_per_customer(params: dict[str, float], frequency: np.ndarray, average_value: np.ndarray
                                ) -> np.ndarray:
    """Each customer's log-likelihood of their average transaction value m_x given x."""
    p, q, gamma = (params[k] for k in PARAMS)
    x, m = frequency, average_value
    return (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(gamma)
            + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(gamma + x * m))


def fit(frequency: np.ndarray, average_value: np.ndarray) -> Fit:
    """Fit p, q, gamma by maximum likelihood on customers with x >= 1 and m_x > 0."""
    keep = (frequency > 0) & (average_value > 0)
    x, m = frequency[keep].astype(float), average_value[keep].astype(float)

    def negative(values: np.ndarray) -> float:
        return -float(np.sum(log_likelihood_per_customer(dict(zip(PARAMS, values, strict=True)), x, m)))

    start = np.array([1.0, 1.0, max(float(np.mean(m)), 1e-6)])
    return fit_positive("Gamma-Gamma", PARAMS, negative, start)


def expected_average_value(params: dict[str, float], frequency: np.ndarray, average_value: np.ndarray
                           ) -> np.ndarray:
    """E[M | x, m_x] = p (gamma + x m_x) / (p x + q - 1); the population mean p gamma / (q - 1) for x = 0."""
    p, q, gamma = (params[k] for k in PARAMS)
    x = frequency.astype(float)
    m = np.where(x > 0, average_value, 0.0)
    return p * (gamma + x * m) / (p * x + q - 1)
