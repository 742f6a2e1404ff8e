"""What the Dagster UI shows about a warehouse table: rows, schema and a preview."""

from __future__ import annotations

import dagster as dg
import duckdb

from ingestion.raw.tables import quote_identifier

PREVIEW_ROWS = 5
HIDDEN_VALUE = "(hidden)"


def table_schema(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dg.TableSchema:
    """Return the table's columns and types."""
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, table],
    ).fetchall()
    return dg.TableSchema(columns=[dg.TableColumn(name, str(data_type)) for name, data_type in rows])


def preview_markdown(con: duckdb.DuckDBPyConnection, qualified_table: str, limit: int = PREVIEW_ROWS,
                     shown: tuple[str, ...] | None = None) -> str:
    """Return the first rows of a table as a Markdown table; with `shown`, every other column's values masked."""
    names = [d[0] for d in con.execute(f"SELECT * FROM {qualified_table} LIMIT 0").description]
    hidden = [] if shown is None else [name for name in names if name not in shown]
    masked = [f"CASE WHEN {quote_identifier(c)} IS NOT NULL THEN '{HIDDEN_VALUE}' END AS {quote_identifier(c)}"
              for c in hidden]
    columns = f"* REPLACE ({', '.join(masked)})" if masked else "*"
    relation = con.sql(f"SELECT {columns} FROM {qualified_table} LIMIT {int(limit)}")
    header = "| " + " | ".join(relation.columns) + " |"
    rule = "|" + "---|" * len(relation.columns)

    def cell(value: object) -> str:
        text = "" if value is None else str(value)
        return text.replace("|", "\\|").replace("\n", " ")[:60]

    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in relation.fetchall()]
    return "\n".join([header, rule, *body])


def table_metadata(con: duckdb.DuckDBPyConnection, schema: str, table: str,
                   shown: tuple[str, ...] | None = None) -> dict[str, object]:
    """Return row count, column schema and preview of a table, as Dagster metadata.

    With `shown`, the preview masks every other column (personal data, and
    columns outside the contract whose content nobody vouched for): the run
    history in the UI must never show a contact value.
    """
    qualified = f'"{schema}"."{table}"'
    (row_count,) = con.execute(f"SELECT count(*) FROM {qualified}").fetchone()
    return {
        "dagster/row_count": dg.MetadataValue.int(int(row_count)),
        "dagster/column_schema": table_schema(con, schema, table),
        "dagster/table_name": f"{schema}.{table}",
        "preview": dg.MetadataValue.md(preview_markdown(con, qualified, shown=shown)),
    }
