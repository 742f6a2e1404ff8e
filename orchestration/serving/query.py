"""Queries on the published marts for people: `retention sql "..."`, as a table or CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.serving.readers import open_published

# What a reader may run: one query. EXPLAIN shows a plan and changes nothing.
ALLOWED_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


class ServingQueryError(ValueError):
    """A query that cannot run on the serving file; the message says why in words."""


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows of a query."""

    columns: list[str]
    rows: list[tuple]


def single_query(query: str) -> str:
    """Return `query` if it is exactly one SELECT (or EXPLAIN) statement, else raise ServingQueryError."""
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as err:
        raise ServingQueryError(f"the query failed: {str(err).splitlines()[0]}") from None
    if len(statements) != 1:
        raise ServingQueryError(f"one query at a time, please: this text holds {len(statements)} statements")
    (statement,) = statements
    if statement.type not in ALLOWED_STATEMENTS:
        # DuckDB files INSTALL under LOAD: name both.
        kind = {"LOAD": "INSTALL or LOAD"}.get(statement.type.name, statement.type.name.replace("_", " "))
        raise ServingQueryError(f"only queries (SELECT ...) run on the published marts, not {kind} statements")
    return query


def query_serving(serving_path: Path, query: str) -> QueryResult:
    """Run one read-only query on the serving file, confined to it (no other files, no settings)."""
    single_query(query)
    if not serving_path.exists():
        raise ServingQueryError(f"no published marts at {serving_path} yet: run `retention demo` or `retention run`")
    try:
        with open_published(serving_path) as con:
            result = con.execute(query)
            columns = [d[0] for d in result.description] if result.description else []
            return QueryResult(columns, result.fetchall() if columns else [])
    except duckdb.Error as err:
        raise ServingQueryError(f"the query failed: {str(err).splitlines()[0]}") from None


def _text(value: object) -> str:
    return "" if value is None else str(value)


def format_table(result: QueryResult, max_rows: int) -> str:
    """An aligned text table of at most `max_rows` rows, with the row count."""
    shown = [[_text(v) for v in row] for row in result.rows[:max_rows]]
    widths = [max([len(c)] + [len(r[i]) for r in shown]) for i, c in enumerate(result.columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(result.columns, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in shown]
    more = f" (first {max_rows} shown; --max-rows or --csv for all)" if len(result.rows) > max_rows else ""
    lines.append(f"({len(result.rows):,} rows{more})")
    return "\n".join(lines)


def format_csv(result: QueryResult) -> str:
    """The result as CSV: a header line, then every row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows([_text(v) for v in row] for row in result.rows)
    return buffer.getvalue()
