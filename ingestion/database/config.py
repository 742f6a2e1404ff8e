"""The database sources file: which databases feed which entities.

The file (YAML, path in RETENTION_SOURCES_FILE) looks like::

    databases:
      crm_db:
        url: postgresql+psycopg2://postgres@127.0.0.1:5432/crm   # or url_env: CRM_DB_URL
        entities:
          customers:
            table: customers            # or: query: "SELECT ... FROM ..."
            schema: public              # optional, with table
            watermark: updated_at       # optional; without it every run reloads everything
            columns: {cust_no: customer_id}   # optional renames onto the source contract

Decision: the URL may be written in the file or named through `url_env`, so
passwords stay in the environment and out of version control.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.contract import entity_named
from ingestion.sources_file import SourcesConfigError, section

__all__ = ["DatabaseEntitySource", "SourcesConfigError", "database_sources"]


@dataclass(frozen=True)
class DatabaseEntitySource:
    """One entity read from one database: a table or a query, maybe incremental."""

    database: str
    url: str
    entity: str
    table: str | None = None
    schema: str | None = None
    query: str | None = None
    watermark: str | None = None
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def source_name(self) -> str:
        """The lineage `_source` of rows from this source."""
        return f"database:{self.database}"

    @property
    def object_name(self) -> str:
        """The lineage `_source_file`: the qualified table, or `query`."""
        if self.table:
            return f"{self.schema}.{self.table}" if self.schema else self.table
        return "query"


def database_sources(path: Path | None) -> list[DatabaseEntitySource]:
    """Read the sources file; no file (or no path) means no database sources."""
    databases = section(path, "databases")
    sources: list[DatabaseEntitySource] = []
    for db_name, settings in databases.items():
        url = database_url(path, db_name, settings or {})
        for entity, spec in ((settings or {}).get("entities") or {}).items():
            sources.append(entity_source(path, db_name, url, entity, spec or {}))
    return sources


def database_url(path: Path, db_name: str, settings: dict) -> str:
    """Return the database's URL from `url` or from the environment variable named by `url_env`."""
    if settings.get("url"):
        return str(settings["url"])
    variable = settings.get("url_env")
    if variable and os.environ.get(variable):
        return os.environ[variable]
    if variable:
        raise SourcesConfigError(f"{path}: database {db_name!r} reads its URL from ${variable}, which is not set")
    raise SourcesConfigError(f"{path}: database {db_name!r} needs 'url' or 'url_env'")


def entity_source(path: Path, db_name: str, url: str, entity: str, spec: dict) -> DatabaseEntitySource:
    """Validate one entity's settings and return its source."""
    try:
        entity_named(entity)
    except ValueError as err:
        raise SourcesConfigError(f"{path}: database {db_name!r}: {err}") from None
    if bool(spec.get("table")) == bool(spec.get("query")):
        raise SourcesConfigError(f"{path}: {db_name}.{entity} needs exactly one of 'table' or 'query'")
    return DatabaseEntitySource(
        database=db_name,
        url=url,
        entity=entity,
        table=spec.get("table"),
        schema=spec.get("schema"),
        query=spec.get("query"),
        watermark=spec.get("watermark"),
        columns=dict(spec.get("columns") or {}),
    )
