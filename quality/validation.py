"""Running a suite on one warehouse relation and summarising the result for people and Dagster."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import great_expectations as gx

from quality.data_docs import validate_with_docs
from quality.gx_duckdb import relation_batch_definition, warehouse_datasource
from quality.rules.row_rule import RowRule
from quality.suites import COUNTED_ROWS_TYPE

SAMPLE_ROWS = 5


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict: what it checks, whether it held, how many rows broke it."""

    description: str
    success: bool
    unexpected_rows: int | None
    rule: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class SuiteOutcome:
    """A suite's verdict on one relation."""

    relation: str
    outcomes: tuple[ExpectationOutcome, ...]

    @property
    def success(self) -> bool:
        """True when every expectation held."""
        return all(o.success for o in self.outcomes)

    @property
    def failed(self) -> tuple[ExpectationOutcome, ...]:
        """The expectations that did not hold."""
        return tuple(o for o in self.outcomes if not o.success)

    def summary(self, samples: dict[str, list[dict]] | None = None) -> str:
        """One line per failed expectation, with an example where `samples` has one.

        E.g. `raw.orders: 12 rows: ordered_at is not a timestamp; e.g. {'file': 'orders/a.csv', 'row': 17, ...}`.
        """
        lines = []
        for outcome in self.failed:
            count = f"{outcome.unexpected_rows:,} rows: " if outcome.unexpected_rows is not None else ""
            example = (samples or {}).get(outcome.rule or "", [])
            line = f"{self.relation}: {count}{outcome.description}" + (f" ({outcome.error})" if outcome.error else "")
            lines.append(line + (f"; e.g. {example[0]}" if example else ""))
        return "\n".join(lines)


def validate_relation(warehouse: Path, relation: str, suite: gx.ExpectationSuite,
                      docs_dir: Path | None = None, query: str | None = None,
                      memory_limit: str | None = None) -> SuiteOutcome:
    """Run `suite` on `relation` (schema.table) of the warehouse, read-only, inside DuckDB.

    With `query`, on the rows it selects (a slice of the relation), under the relation's name.
    With `docs_dir`, the run goes through a GX checkpoint whose result the Data Docs there show once
    `quality.data_docs.build_data_docs` draws them (the Dagster resource does when the run ends).
    `memory_limit` caps DuckDB's buffers.
    """
    if docs_dir is not None:
        result = validate_with_docs(warehouse, relation, suite, docs_dir, query, memory_limit)
    else:
        with warehouse_datasource(warehouse, memory_limit=memory_limit) as (_, datasource):
            batch = relation_batch_definition(datasource, relation, query).get_batch()
            result = batch.validate(suite, result_format="SUMMARY")
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        error = raised_error(item.exception_info)
        unexpected = item.result.get("unexpected_count")
        if config.type == COUNTED_ROWS_TYPE:
            unexpected = item.result.get("observed_value")
        outcomes.append(ExpectationOutcome(
            description=config.description or config.type, success=bool(item.success) and error is None,
            unexpected_rows=unexpected, rule=(config.meta or {}).get("rule"), error=error,
        ))
    return SuiteOutcome(relation, tuple(outcomes))


def raised_error(exception_info: dict) -> str | None:
    """The first line of the error an expectation raised, or None.

    GX reports an expectation's own error at the top level and a failed metric query (the rule's SQL:
    out of memory, a missing table) keyed by the metric, as an ExceptionInfo.
    """
    for info in (exception_info, *exception_info.values()):
        as_dict = info.to_json_dict() if hasattr(info, "to_json_dict") else info
        if isinstance(as_dict, dict) and as_dict.get("raised_exception"):
            return readable_error(str(as_dict.get("exception_message") or "error"))
    return None


MEMORY_HINT = ("DuckDB reached its memory limit: raise RETENTION_DUCKDB_MEMORY_LIMIT, or leave more free disk "
               "next to the warehouse for it to spill to")


def readable_error(message: str) -> str:
    """The first line of a DuckDB error, with what to do when it ran out of memory."""
    first = next(iter(message.strip().splitlines()), "error")
    return f"{first} ({MEMORY_HINT})" if "out of memory" in first.lower() else first


def failing_samples(warehouse: Path, relation: str, rules: list[RowRule], limit: int = SAMPLE_ROWS,
                    memory_limit: str | None = None) -> dict[str, list]:
    """A few rows breaking each rule, as {column: value} with file and row where the table has lineage.

    Read-only DuckDB queries; rules without failures are left out; the first rows in file and row order.
    Examples only illustrate a count the check already has: a rule whose rows cannot be read (out of
    memory, say) gets a note saying why instead of examples, and the check still reports its verdict.
    """
    samples: dict[str, list] = {}
    if not rules:
        return samples  # nothing failed: the warehouse is not opened at all
    config = {"memory_limit": memory_limit} if memory_limit else {}
    with duckdb.connect(str(warehouse), read_only=True, config=config) as con:
        for rule in rules:
            try:
                # In a stable order (raw rows by file, then row): the same failures show the same examples.
                result = con.execute(f"SELECT * FROM ({rule.unexpected_rows_query(relation)}) AS broken "
                                     f"ORDER BY ALL LIMIT {int(limit)}")
                names = [d[0] for d in result.description]
                rows = [dict(zip(names, values, strict=True)) for values in result.fetchall()]
            except duckdb.Error as error:
                samples[rule.name] = [{"examples not read": readable_error(str(error))}]
                continue
            if rows:
                samples[rule.name] = [sample_of(row, rule.column) for row in rows]
    return samples


def sample_of(row: dict, column: str) -> dict:
    """What people need of a failing row: its file and row number, and the rule's column (else every column)."""
    located = {"file": row["_source_file"], "row": row["_row_number"]} if "_source_file" in row else {}
    if column in row:
        return {**located, column: _plain(row[column])}
    return {**located, **{k: _plain(v) for k, v in row.items() if not k.startswith("_")}}


def _plain(value: object) -> object:
    """A JSON-friendly value (numbers and text as they are, anything else as text)."""
    return value if value is None or isinstance(value, (int, float, str, bool)) else str(value)
