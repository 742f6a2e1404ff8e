"""The BG/NBD model (Fader, Hardie and Lee 2005, "Counting your customers the easy way").

A customer buys at rate lambda ~ Gamma(r, alpha) while alive and, after any
purchase, drops out with probability p ~ Beta(a, b). Input per customer:
frequency x (repeat purchases), recency t_x (time of the last purchase since
the first) and age T (time since the first purchase), in one time unit.

Everything is vectorised over customers and computed in log space with
gammaln/betaln, so large frequencies neither overflow nor lose precision.
Identical (x, t_x, T) rows can be passed once with a weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1

from orchestration.predictive.fitting import Fit, fit_positive

PARAMS = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class RepeatPurchases:
    """Repeat-purchase summaries of customers (arrays of equal length), with optional weights."""

    frequency: np.ndarray
    recency: np.ndarray
    age: np.ndarray
    weight: np.ndarray | None = None

    def weights(self) -> np.ndarray:
        """The weight of each row (1 when not grouped)."""
        return np.ones_like(self.frequency, dtype=float) if self.weight is None else self.weight


def _log_second_term_ratio(params: dict[str, float], x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> np.ndarray:
    """log of (a / (b + x - 1)) * ((alpha + T) / (alpha + t_x))^(r + x) for x > 0; -inf for x = 0."""
    r, alpha, a, b = (params[k] for k in PARAMS)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x)))
    return np.where(x > 0, value, -np.inf)


def log_likelihood_per_customer(params: dict[str, float], data: RepeatPurchases) -> np.ndarray:
    """Each customer's log-likelihood under the BG/NBD (equation 6 of the paper, in log space)."""
    r, alpha, a, b = (params[k] for k in PARAMS)
    x, t_x, age = data.frequency, data.recency, data.age
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    still_alive = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + age)
    with np.errstate(divide="ignore", invalid="ignore"):
        dropped = betaln(a + 1, np.maximum(b + x - 1, 1e-300)) - betaln(a, b) - (r + x) * np.log(alpha + t_x)
    dropped = np.where(x > 0, dropped, -np.inf)
    return common + np.logaddexp(still_alive, dropped)


def log_likelihood(params: dict[str, float], data: RepeatPurchases) -> float:
    """Total (weighted) log-likelihood."""
    return float(np.sum(data.weights() * log_likelihood_per_customer(params, data)))


def starting_values(data: RepeatPurchases) -> np.ndarray:
    """Method-of-moments-like start: r = 1, alpha from the mean purchase rate, a = 1, b = 1."""
    weights = data.weights()
    rate = np.sum(weights * data.frequency) / max(np.sum(weights * data.age), 1e-9)
    return np.array([1.0, 1.0 / max(rate, 1e-6), 1.0, 1.0])


def fit(data: RepeatPurchases) -> Fit:
    """Fit r, alpha, a, b by maximum likelihood (ConvergenceError when it does not converge)."""
    def negative(values: np.ndarray) -> float:
        return -log_likelihood(dict(zip(PARAMS, values, strict=True)), data)

    return fit_positive("BG/NBD", PARAMS, negative, starting_values(data))


def probability_alive(params: dict[str, float], data: RepeatPurchases) -> np.ndarray:
    """P(alive | x, t_x, T) = 1 / (1 + [x > 0] (a / (b + x - 1)) ((alpha + T) / (alpha + t_x))^(r + x))."""
    return np.exp(-np.logaddexp(0.0, _log_second_term_ratio(params, data.frequency, data.recency, data.age)))


def expected_purchases(params: dict[str, float], data: RepeatPurchases, horizon: float) -> np.ndarray:
    """E[purchases in (T, T + horizon] | x, t_x, T] (equation 10 of the paper)."""
    return expected_purchases_by_horizon(params, data, [horizon])[0]


def expected_purchases_by_horizon(params: dict[str, float], data: RepeatPurchases,
                                  horizons: list[float]) -> np.ndarray:
    """`expected_purchases` for each of `horizons` (one row each).

    The hypergeometric term, the costly part, depends only on a customer's
    frequency and age: it is computed once per distinct pair (tens of
    thousands among a million customers) and P(alive) once for all horizons,
    which gives each customer the very same value.
    """
    r, alpha, a, b = (params[k] for k in PARAMS)
    # One complex number per (frequency, age) pair: np.unique over it is several times faster than over rows.
    pairs, inverse = np.unique(data.frequency + 1j * data.age, return_inverse=True)
    x, age = pairs.real, pairs.imag
    alive = probability_alive(params, data)
    by_horizon = []
    for horizon in horizons:
        z = horizon / (alpha + age + horizon)
        hypergeometric = hyp2f1(r + x, b + x, a + b + x - 1, z)
        growth = np.exp((r + x) * (np.log(alpha + age) - np.log(alpha + age + horizon)))
        numerator = (a + b + x - 1) / (a - 1) * (1 - growth * hypergeometric)
        by_horizon.append(numerator[inverse.reshape(-1)] * alive)
    return np.stack(by_horizon)
