"""Where source data arrives: the landing directory and the database sources file."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from ingestion.database.config import DatabaseEntitySource, database_sources
from ingestion.landing.options import FileOptions, file_options
from ingestion.mapping.spec import MappedSource, mapped_sources


class LandingZone(dg.ConfigurableResource):
    """The landing directory (one folder per entity) and the optional database sources file."""

    landing_dir: str
    sources_file: str | None = None
    # Largest share of a file's rows that may break raw rules (they are quarantined); above it the file is refused.
    max_bad_share: float = 0.01
    # An EnvVar (RETENTION_PII_KEY) when set: mappings may pseudonymise an e-mail into a customer id.
    pii_key: str | None = None
    # What the runs have loaded (Settings.landed_record_path): the sensor starts runs only for other content.
    landed_record: str | None = None

    @property
    def path(self) -> Path:
        """The landing directory."""
        return Path(self.landing_dir)

    def file_options(self) -> list[FileOptions]:
        """The sources file's options for landing files (e.g. an encoding per glob)."""
        return file_options(Path(self.sources_file) if self.sources_file else None)

    def mapped_sources(self) -> list[MappedSource]:
        """The sources file's mapped exports (files: entries with entities or a preset)."""
        return mapped_sources(Path(self.sources_file) if self.sources_file else None)

    def database_sources_for(self, entity: str) -> list[DatabaseEntitySource]:
        """Return the database sources configured for an entity."""
        path = Path(self.sources_file) if self.sources_file else None
        return [s for s in database_sources(path) if s.entity == entity]
