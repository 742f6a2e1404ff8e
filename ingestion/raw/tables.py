"""Raw tables: every source column as text, plus lineage columns.

Decision: raw keeps the source's values as VARCHAR, exactly as received (a
Parquet timestamp becomes its ISO text in UTC). Typing happens in dbt staging,
so a malformed value never stops a load; it reaches the quality gates, which
can name the file, row and column it came from.

Raw keeps every version of every file it received. What counts is the view
`raw.<entity>__current`: the rows of the current loads (manifest.py), which
the quarantine, the raw checks and staging read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from ingestion.contract import Entity
from ingestion.raw.manifest import CURRENT_LOADS_VIEW, ensure_manifest

KEY_COLUMN = "_key"

LINEAGE_COLUMNS: dict[str, str] = {
    "_source": "VARCHAR",  # e.g. "files" or "database:crm_db"
    "_source_file": "VARCHAR",  # landing path relative to the landing dir, or the table / query name
    "_loaded_at": "TIMESTAMP",  # UTC
    "_row_number": "BIGINT",  # 1-based position of the row in its file or extraction
    "_load_id": "VARCHAR",  # the load in raw._load_manifest that brought the row
    # Why the line could not be read as a record (a malformed JSON line); NULL for every readable row.
    "_parse_error": "VARCHAR",
    # That line as received, so nothing is lost; never shown (it may hold contact details).
    "_unparsed_line": "VARCHAR",
    # The entity's first key column as every key comparison reads it (trimmed, empty = NULL), kept at load:
    # the quarantine, staging and reconciliation look rows up by key, and a stored value lets DuckDB skip
    # the row groups a day's keys cannot be in, where trimming every row of history on each lookup cannot.
    KEY_COLUMN: "VARCHAR",
}
UNSHOWN_LINEAGE = frozenset({"_unparsed_line"})
# The status words a mapped source adds (files.<name>.statuses in the sources file), per landing file it
# loaded: staging and the raw status rules read them beside seeds/order_status_map.csv.
SOURCE_STATUSES_TABLE = "raw._source_statuses"


@dataclass(frozen=True)
class Lineage:
    """Where a batch of rows came from; stamped on every row of the batch."""

    source: str
    source_file: str
    loaded_at: datetime
    load_id: str


def quote_identifier(name: str) -> str:
    """Return `name` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def ensure_raw_table(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """Create the raw schema, the entity's table (contract columns + lineage) and its current view if missing."""
    ensure_manifest(con)
    con.execute(f"CREATE TABLE IF NOT EXISTS {SOURCE_STATUSES_TABLE} "
                "(source_file VARCHAR, source_status VARCHAR, status VARCHAR)")
    columns = [f"{quote_identifier(c)} VARCHAR" for c in entity.columns]
    columns += [f"{name} {sql_type}" for name, sql_type in LINEAGE_COLUMNS.items()]
    con.execute(f"CREATE TABLE IF NOT EXISTS {entity.raw_table} ({', '.join(columns)})")
    # Tables created before a lineage column existed get it now.
    add_stored_key(con, entity, entity.raw_table)
    for name, sql_type in LINEAGE_COLUMNS.items():
        con.execute(f"ALTER TABLE {entity.raw_table} ADD COLUMN IF NOT EXISTS {name} {sql_type}")
    con.execute(
        f"CREATE OR REPLACE VIEW {entity.current_raw_table} AS SELECT * FROM {entity.raw_table} "
        f"WHERE _load_id IN (SELECT load_id FROM {CURRENT_LOADS_VIEW})"
    )


def key_text(column: str) -> str:
    """SQL: a key column as compared everywhere (trimmed, empty = NULL)."""
    return f"nullif(trim({column}), '')"


def stored_key(entity: Entity) -> str:
    """SQL: the value of KEY_COLUMN for a row of the entity's source (its first key column as key_text gives it)."""
    return key_text(f"CAST({quote_identifier(entity.key_columns[0])} AS VARCHAR)")


def compared_value(entity: Entity, column: str) -> str:
    """SQL: a column of the entity's raw rows as key comparisons read it (the stored key for its first key
    column, which a line's order_id is)."""
    return KEY_COLUMN if column == entity.key_columns[0] else key_text(column)


def add_stored_key(con: duckdb.DuckDBPyConnection, entity: Entity, table: str) -> None:
    """Give a table of the entity's raw rows (raw, quarantine) created before KEY_COLUMN existed that column,
    filled in from the key."""
    schema, name = table.split(".")
    # A table that does not exist has no columns: only an existing table without the key gets it.
    columns, present = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE column_name = ?) FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = ? AND table_name = ?",
        [KEY_COLUMN, schema, name]).fetchone()
    if columns and not present:
        con.execute(f"ALTER TABLE {table} ADD COLUMN {KEY_COLUMN} VARCHAR")
        con.execute(f"UPDATE {table} SET {KEY_COLUMN} = {stored_key(entity)}")


def raw_table_columns(con: duckdb.DuckDBPyConnection, entity: Entity) -> list[str]:
    """Return the column names of the entity's raw table, in table order."""
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() "
        "WHERE schema_name = 'raw' AND table_name = ? ORDER BY column_index",
        [entity.name],
    ).fetchall()
    return [r[0] for r in rows]


def source_columns(con: duckdb.DuckDBPyConnection, select_sql: str, params: list | None = None) -> list[str]:
    """Return the column names a source query yields, without running it."""
    return [row[0] for row in con.execute(f"DESCRIBE {select_sql}", params or []).fetchall()]


def append_to_raw(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    select_sql: str,
    params: list | None,
    lineage: Lineage,
) -> int:
    """Append the rows of `select_sql` to the entity's raw table and return how many.

    `select_sql` yields the source's columns plus `_row_number` (and
    `_parse_error`, `_unparsed_line` where a line may not be a record). Columns the
    raw table has not seen yet are added (schema drift is kept, not dropped);
    contract columns the source lacks stay NULL.
    """
    ensure_raw_table(con, entity)
    described = source_columns(con, select_sql, params)
    incoming = [c for c in described if c not in ("_row_number", "_parse_error", "_unparsed_line")]
    parse_error = "_parse_error" in described
    known = set(raw_table_columns(con, entity))
    for column in incoming:
        if column not in known:
            con.execute(f"ALTER TABLE {entity.raw_table} ADD COLUMN {quote_identifier(column)} VARCHAR")
    casts = ", ".join(f"CAST({quote_identifier(c)} AS VARCHAR) AS {quote_identifier(c)}" for c in incoming)
    key = stored_key(entity) if entity.key_columns[0] in incoming else "NULL"
    sql = f"""
        INSERT INTO {entity.raw_table} BY NAME
        SELECT {casts + ',' if casts else ''} {key} AS {KEY_COLUMN},
               CAST(_row_number AS BIGINT) AS _row_number,{' _parse_error, _unparsed_line,' if parse_error else ''}
               ? AS _source, ? AS _source_file, CAST(? AS TIMESTAMP) AS _loaded_at, ? AS _load_id
        FROM ({select_sql}) AS src
    """
    # Positional parameters bind in text order: the lineage values come first.
    args = [lineage.source, lineage.source_file, lineage.loaded_at, lineage.load_id, *(params or [])]
    inserted = con.execute(sql, args).fetchone()
    return int(inserted[0]) if inserted else 0
