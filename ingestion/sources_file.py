"""The sources file (RETENTION_SOURCES_FILE, default ./sources.yml): where data comes from, besides the landing folders.

    databases:              # tables or queries of SQLAlchemy databases (ingestion/database/config.py)
      crm_db: {...}
    files:
      legacy_crm:                         # options for contract files (ingestion/landing/options.py)
        glob: "customers/legacy_*.csv"    # relative to the landing directory
        encoding: latin-1                 # any Python codec name: no detection for these files
      online_retail:                      # an export in its own shape, mapped (ingestion/mapping/spec.py)
        glob: "exports/online_retail*.csv"
        preset: order_lines
        entities: {...}

One file, read here; each part is validated by the module that uses it.
"""

from __future__ import annotations

import codecs
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


def file_entries(path: Path | None) -> list[tuple[str, dict, bool]]:
    """The `files:` entries as (name, settings, mapped): each has a glob; `mapped` when it maps an export."""
    entries = []
    for name, settings in section(path, "files").items():
        if not isinstance(settings, dict) or not settings.get("glob"):
            raise SourcesConfigError(f"{path}: files.{name} needs a 'glob' (e.g. \"exports/*.csv\")")
        entries.append((str(name), settings, "entities" in settings or "preset" in settings))
    return entries


def checked_encoding(where: str, encoding: object) -> str | None:
    """A codec name as given (None stays None), or a SourcesConfigError naming `where`."""
    if encoding is None:
        return None
    try:
        codecs.lookup(str(encoding))
    except LookupError:
        raise SourcesConfigError(f"{where}: unknown encoding {encoding!r}") from None
    return str(encoding)


def section(path: Path | None, name: str) -> dict:
    """One top-level part of the sources file (`databases`, `files`), {} when absent."""
    part = read_sources_file(path).get(name) or {}
    if not isinstance(part, dict):
        raise SourcesConfigError(f"{path}: '{name}' must be a mapping of names to settings")
    return part
