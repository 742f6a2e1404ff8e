"""The embedded DuckDB warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

# DuckDB allows one writing process, or many readers but never both at once.
# Every asset that writes the warehouse takes a slot of this one-slot pool, and
# every run of a job that writes it carries the run tag below, which the run
# queue of .dagster/dagster.yaml limits to one run at a time.
WAREHOUSE_POOL = "duckdb_warehouse"
WRITER_RUN_TAG = {"retention/warehouse": "writer"}


class DuckDBWarehouse(dg.ConfigurableResource):
    """The warehouse file. Writers connect read-write; everything else read-only."""

    path: str
    memory_limit: str | None = None

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the warehouse; a writer creates the file (and its folder) if needed."""
        if not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        config = {"memory_limit": self.memory_limit} if self.memory_limit else {}
        con = duckdb.connect(self.path, read_only=read_only, config=config)
        # Text without an offset is read as UTC, whatever the machine's zone.
        con.execute("SET TimeZone = 'UTC'")
        try:
            yield con
        finally:
            con.close()
