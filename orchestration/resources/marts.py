"""Options of the mart build that operators set per deployment."""

from __future__ import annotations

import dagster as dg


class MartSettings(dg.ConfigurableResource):
    """The as-of date T of the marts; None lets dbt use the latest completed order's date."""

    as_of_date: str | None = None

    def dbt_vars(self) -> dict[str, str]:
        """Return the dbt vars these settings override (empty: the project's defaults)."""
        return {"as_of_date": self.as_of_date} if self.as_of_date else {}
