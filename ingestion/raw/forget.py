"""Removing a landing file's rows from the warehouse on purpose (`retention forget FILE`).

A file that disappears from the landing directory keeps its rows: landing
folders are often emptied once files are loaded, and that must not empty the
marts. When a file's rows should really go (sent by mistake, withdrawn by
its source), this removes every version of it from raw and from the load
manifest, and notes what it removed in `raw._forgotten_files`; the next run
rebuilds quarantine, staging and the marts without those rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ingestion.contract import ENTITIES
from ingestion.raw.manifest import FILES_SOURCE, MANIFEST_TABLE, ensure_manifest, utc_now

FORGOTTEN_TABLE = "raw._forgotten_files"


@dataclass(frozen=True)
class Forgotten:
    """What forgetting one file removed."""

    source_file: str
    entity: str
    versions: int
    rows: int


def forget_file(con: duckdb.DuckDBPyConnection, source_file: str) -> Forgotten:
    """Remove every row and manifest entry of a landing file (path relative to the landing dir), in one transaction."""
    ensure_manifest(con)
    loads = con.execute(
        f"SELECT entity, load_id FROM {MANIFEST_TABLE} WHERE source = '{FILES_SOURCE}' AND source_file = ?",
        [source_file],
    ).fetchall()
    if not loads:
        raise ValueError(f"{source_file}: no file of that path was loaded (the run log names each loaded file by "
                         "its path relative to the landing directory, e.g. orders/2024-05.csv)")
    (entity,) = {entity for entity, _ in loads}
    load_ids = [load_id for _, load_id in loads]
    con.execute("BEGIN TRANSACTION")
    try:
        (rows,) = con.execute(f"DELETE FROM {ENTITIES[entity].raw_table} WHERE _load_id IN "
                              f"(SELECT unnest(?::VARCHAR[]))", [load_ids]).fetchone()
        con.execute(f"DELETE FROM {MANIFEST_TABLE} WHERE load_id IN (SELECT unnest(?::VARCHAR[]))", [load_ids])
        con.execute(f"""CREATE TABLE IF NOT EXISTS {FORGOTTEN_TABLE} (
            source_file VARCHAR, entity VARCHAR, versions INTEGER, rows_removed BIGINT, forgotten_at TIMESTAMP)""")
        con.execute(f"INSERT INTO {FORGOTTEN_TABLE} VALUES (?, ?, ?, ?, ?)",
                    [source_file, entity, len(load_ids), rows, utc_now()])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return Forgotten(source_file, entity, len(load_ids), int(rows))
