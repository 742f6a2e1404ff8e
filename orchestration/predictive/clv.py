"""Predicted customer lifetime value and the holdout check, from fitted BG/NBD and Gamma-Gamma models.

Predicted CLV over H months = sum over months m = 1..H of
  (expected purchases in month m) x (expected spend per purchase) x margin / (1 + d)^m,
with d the monthly rate equivalent to the annual discount rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.predictive import bgnbd, gamma_gamma
from orchestration.predictive.bgnbd import RepeatPurchases

WEEKS_PER_MONTH = 365.25 / 12 / 7


@dataclass(frozen=True)
class ClvSettings:
    """Horizon, margin and discounting of predicted CLV, and the holdout length of the model check."""

    horizon_months: int = 12
    margin: float = 1.0
    annual_discount_rate: float = 0.10
    holdout_weeks: int = 26


@dataclass(frozen=True)
class CustomerPredictions:
    """Per customer, in the order of the summaries."""

    p_alive: np.ndarray
    expected_purchases: np.ndarray
    expected_average_value: np.ndarray
    predicted_clv: np.ndarray


def monthly_discount_rate(annual_rate: float) -> float:
    """The monthly rate compounding to `annual_rate` over twelve months."""
    return (1.0 + annual_rate) ** (1.0 / 12.0) - 1.0


def predict(bg_params: dict[str, float], gg_params: dict[str, float], purchases: RepeatPurchases,
            average_repeat_value: np.ndarray, settings: ClvSettings) -> CustomerPredictions:
    """P(alive), expected purchases over the horizon, expected spend and discounted predicted CLV."""
    cumulative = bgnbd.expected_purchases_by_horizon(
        bg_params, purchases, [month * WEEKS_PER_MONTH for month in range(1, settings.horizon_months + 1)])
    per_month = np.diff(cumulative, axis=0, prepend=0.0)
    discount = (1.0 + monthly_discount_rate(settings.annual_discount_rate)) ** -np.arange(
        1, settings.horizon_months + 1)
    spend = gamma_gamma.expected_average_value(gg_params, purchases.frequency, np.nan_to_num(average_repeat_value))
    clv = spend * settings.margin * (discount @ per_month)
    return CustomerPredictions(bgnbd.probability_alive(bg_params, purchases), cumulative[-1], spend, clv)


def tracking_curve(bg_params: dict[str, float], grouped: RepeatPurchases, weeks: int) -> np.ndarray:
    """Expected cumulative repeat purchases of all calibrated customers after 1..weeks holdout weeks."""
    weights = grouped.weights()
    by_week = bgnbd.expected_purchases_by_horizon(bg_params, grouped, [float(week) for week in range(1, weeks + 1)])
    return np.sum(weights * by_week, axis=1)
