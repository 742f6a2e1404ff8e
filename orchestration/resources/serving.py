"""Where the published marts live."""

from __future__ import annotations

from pathlib import Path

import dagster as dg


class ServingStore(dg.ConfigurableResource):
    """The serving DuckDB file; its folder also holds parquet/current/<mart>.parquet."""

    serving_path: str

    @property
    def path(self) -> Path:
        """The serving DuckDB file."""
        return Path(self.serving_path)
