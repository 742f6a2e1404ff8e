"""Where the published marts live."""

from __future__ import annotations

from pathlib import Path

import dagster as dg


class ServingStore(dg.ConfigurableResource):
    """The serving DuckDB file (its folder also holds the Parquet copies, parquet/current/), and the restricted one.

    The customers' names go to `contacts_path` only when the deployment asked
    for them (`publish_contacts`, RETENTION_PUBLISH_CONTACTS); otherwise they
    stay in the warehouse alone, and an earlier publication of them is removed.
    """

    serving_path: str
    contacts_path: str
    publish_contacts: bool = False

    @property
    def path(self) -> Path:
        """The serving DuckDB file."""
        return Path(self.serving_path)
