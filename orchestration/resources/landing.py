"""Where source data arrives: the landing directory and the database sources file."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from ingestion.database.config import DatabaseEntitySource, database_sources


class LandingZone(dg.ConfigurableResource):
    """The landing directory (one folder per entity) and the optional database sources file."""

    landing_dir: str
    sources_file: str | None = None
    # Largest share of a file's rows that may break raw rules (they are quarantined); above it the file is refused.
    max_bad_share: float = 0.01

    @property
    def path(self) -> Path:
        """The landing directory."""
        return Path(self.landing_dir)

    def database_sources_for(self, entity: str) -> list[DatabaseEntitySource]:
        """Return the database sources configured for an entity."""
        path = Path(self.sources_file) if self.sources_file else None
        return [s for s in database_sources(path) if s.entity == entity]
