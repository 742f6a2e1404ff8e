"""Where things live, read from environment variables with embedded defaults.

| variable                  | default                          |
|---------------------------|----------------------------------|
| RETENTION_DATA_DIR        | <project>/data                   |
| RETENTION_WAREHOUSE       | $RETENTION_DATA_DIR/warehouse.duckdb |
| RETENTION_LANDING_DIR     | $RETENTION_DATA_DIR/landing      |
| RETENTION_SOURCES_FILE    | <project>/sources.yml (if present) |
| RETENTION_AS_OF_DATE      | unset: latest completed order date |
| RETENTION_DUCKDB_MEMORY_LIMIT | unset: DuckDB's default (80% of RAM) |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


@dataclass(frozen=True)
class Settings:
    """The paths and options of one deployment."""

    data_dir: Path
    warehouse_path: Path
    landing_dir: Path
    sources_file: Path | None
    as_of_date: str | None
    duckdb_memory_limit: str | None

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings from the environment, with the embedded defaults."""
        data_dir = Path(os.environ.get("RETENTION_DATA_DIR", PROJECT_ROOT / "data")).resolve()
        sources = os.environ.get("RETENTION_SOURCES_FILE")
        default_sources = PROJECT_ROOT / "sources.yml"
        as_of = os.environ.get("RETENTION_AS_OF_DATE") or None
        if as_of is not None:
            validated_as_of_date(as_of)
        return cls(
            data_dir=data_dir,
            warehouse_path=Path(os.environ.get("RETENTION_WAREHOUSE", data_dir / "warehouse.duckdb")).resolve(),
            landing_dir=Path(os.environ.get("RETENTION_LANDING_DIR", data_dir / "landing")).resolve(),
            sources_file=Path(sources).resolve() if sources else (default_sources if default_sources.exists() else None),
            as_of_date=as_of,
            duckdb_memory_limit=os.environ.get("RETENTION_DUCKDB_MEMORY_LIMIT") or None,
        )


def validated_as_of_date(text: str) -> str:
    """Return `text` if it is a YYYY-MM-DD date, else raise a ValueError that says so."""
    try:
        date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"as-of date {text!r} is not a date in the form YYYY-MM-DD") from None
    return text
