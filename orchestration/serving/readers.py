"""Connections for readers of the published marts: read-only, and confined to the file they read.

DuckDB can read and write any file the process may touch (`read_csv`,
`COPY ... TO`, `ATTACH`), fetch and load extensions, and change its own
settings. A reader of the serving file (`retention sql`, the report, a BI
tool) needs none of it, and with it a query could read the warehouse's plain
contact data, plant a file in the landing directory for the next run, or
overwrite the serving file. Every reader connection therefore disables
external access and extension loading and then locks its configuration, so
no statement can switch them back on.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import duckdb

# Order matters: lock_configuration comes last, once the rest is set.
READER_SETTINGS: dict[str, str] = {
    "enable_external_access": "false",
    "autoload_known_extensions": "false",
    "autoinstall_known_extensions": "false",
    "allow_community_extensions": "false",
    "lock_configuration": "true",
}


def open_published(path: Path, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A confined read-only connection to a published DuckDB file (see the module docstring)."""
    config = dict(READER_SETTINGS)
    if threads is not None:
        config = {"threads": str(threads), **config}
    return duckdb.connect(str(path), read_only=True, config=config)


def reader_url(path: Path) -> str:
    """The SQLAlchemy URL (duckdb-engine) with the same settings, for BI tools and notebooks.

    duckdb-engine passes every query parameter to DuckDB as configuration.
    """
    return f"duckdb:///{path.resolve().as_posix()}?" + urlencode({"access_mode": "read_only", **READER_SETTINGS})
