"""The sources file (RETENTION_SOURCES_FILE, default ./sources.yml): where data comes from, besides the landing folders.

    databases:              # tables or queries of SQLAlchemy databases (ingestion/database/config.py)
      crm_db: {...}
    files:                  # options for landing files (ingestion/landing/options.py)
      legacy_crm:
        glob: "customers/legacy_*.csv"    # relative to the landing directory
        encoding: latin-1                 # any Python codec name: no detection for these files

One file, read here; each part is validated by the module that uses it.
"""

from __future__ import annotations

from pathlib import Path

import yaml


class SourcesConfigError(ValueError):
    """The sources file is malformed; the message says where."""


def read_sources_file(path: Path | None) -> dict:
    """The sources file as a mapping; no file (or no path) means no sources beyond the landing folders."""
    if path is None or not path.exists():
        return {}
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise SourcesConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(document, dict):
        raise SourcesConfigError(f"{path}: expected a mapping with 'databases' and/or 'files'")
    return document


def section(path: Path | None, name: str) -> dict:
    """One top-level part of the sources file (`databases`, `files`), {} when absent."""
    part = read_sources_file(path).get(name) or {}
    if not isinstance(part, dict):
        raise SourcesConfigError(f"{path}: '{name}' must be a mapping of names to settings")
    return part
