"""Options of the predictive CLV models that operators set per deployment."""

from __future__ import annotations

import dagster as dg

from orchestration.predictive.clv import ClvSettings
from orchestration.settings import DEFAULT_REFIT_DAYS


class PredictionSettings(dg.ConfigurableResource):
    """CLV horizon, margin and annual discount rate, and the holdout length of the model check."""

    horizon_months: int = 12
    margin: float = 1.0
    annual_discount_rate: float = 0.10
    holdout_weeks: int = 26
    # Fit again once T is this many days past the last fit (0: every run); see orchestration/assets/predictive.py.
    refit_days: int = DEFAULT_REFIT_DAYS

    def clv_settings(self) -> ClvSettings:
        """These options as the models take them."""
        return ClvSettings(self.horizon_months, self.margin, self.annual_discount_rate, self.holdout_weeks)
