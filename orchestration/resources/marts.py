"""Options of the build that operators set per deployment or per run."""

from __future__ import annotations

import dagster as dg


class MartSettings(dg.ConfigurableResource):
    """The as-of date T of the marts and the reporting currency; None leaves each to the project's rule.

    as_of_date None: the latest completed order's date. reporting_currency
    None: the one currency every order is in (var reporting_currency).
    full_refresh: rebuild the quarantine and every dbt model from all of raw
    instead of the changed keys (`retention run --full-refresh`).
    """

    as_of_date: str | None = None
    reporting_currency: str | None = None
    full_refresh: bool = False

    def dbt_vars(self) -> dict[str, str]:
        """Return the dbt vars these settings override (empty: the project's defaults)."""
        overrides = {"as_of_date": self.as_of_date, "reporting_currency": self.reporting_currency}
        return {name: value for name, value in overrides.items() if value}
