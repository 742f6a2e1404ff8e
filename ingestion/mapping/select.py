"""DuckDB queries that read a mapped export and yield one entity's rows in contract columns.

Reading: CSV with its options, whitespace-separated logs, Excel sheets
(python-calamine, through pandas, into a Parquet scratch copy of text
columns that DuckDB reads), Parquet and JSON Lines. CSV and log values are
read as text; Parquet values keep their types until the mapping writes them
as contract text. Every row keeps `_row_number`, its data row in the file
(1 = the first row under the header), so that a message names the
export's own row.

Mapping: each contract column is the first of its candidates that the
export has as a column (names compared without case), or an SQL expression
(written `= ...`) over the export's columns, `_row_number`, the source's
lookup tables and, as `{column}` / `{entity.column}`, its other mapped
columns; rewritten into the contract's text by the source's value formats
(values.py). An optional column none of whose names the export has stays
empty; a required one stops the load and says which names were looked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.contract import ENTITIES
from ingestion.landing.discovery import file_format_of
from ingestion.landing.readers import LINES_READER, jsonl_select, parquet_select
from ingestion.mapping.spec import WHITESPACE, MappedSource, ReadOptions
from ingestion.mapping.values import contract_text, sql_literal
from ingestion.raw.tables import quote_identifier

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")


class MappingError(ValueError):
    """A mapping that does not fit its export; the message names the source, entity, column and file."""


def export_format(source: MappedSource, path: Path) -> str | None:
    """The format of one export: as the source says, else from the file name (None: not a data file)."""
    if source.read.file_format:
        return source.read.file_format
    if path.name.lower().endswith(EXCEL_SUFFIXES):
        return "excel"
    return file_format_of(path)


def _csv_select(path: Path, read: ReadOptions) -> tuple[str, list]:
    options = ["all_varchar = true", f"header = {str(read.header).lower()}", f"skip = {int(read.skip_rows)}"]
    if read.delimiter:
        options.append(f"delim = {sql_literal(read.delimiter)}")
    if read.names:
        options.append("names = [" + ", ".join(sql_literal(n) for n in read.names) + "]")
    # DuckDB streams `row_number() OVER ()` in file order, so it is the file's data-row number.
    return (f"SELECT *, row_number() OVER () AS _row_number FROM read_csv(?, {', '.join(options)})", [str(path)])


def _whitespace_select(con: duckdb.DuckDBPyConnection, path: Path, read: ReadOptions) -> tuple[str, list]:
    """A log whose fields are separated by runs of blanks (leading blanks ignored), like CDNOW's."""
    stripped = "regexp_replace(line, '^\\s+|\\s+$', '', 'g')"  # blanks and the \r of CRLF files
    lines = (f"SELECT row_number() OVER () AS line_number, regexp_split_to_array({stripped}, '\\s+') AS fields "
             f"FROM {LINES_READER}")
    kept = f"SELECT * FROM ({lines}) AS lines WHERE line_number > {int(read.skip_rows)} AND fields <> ['']"
    names = list(read.names)
    header_rows = 1 if read.header else 0
    if read.header and not names:
        first = con.execute(f"SELECT fields FROM ({kept}) AS k ORDER BY line_number LIMIT 1", [str(path)]).fetchone()
        names = list(first[0]) if first else []
    if not names:
        (width,) = con.execute(f"SELECT max(len(fields)) FROM ({kept}) AS k", [str(path)]).fetchone()
        names = [f"column{i}" for i in range(int(width or 0))]
    projection = ", ".join(f"fields[{i + 1}] AS {quote_identifier(n)}" for i, n in enumerate(unique_names(names)))
    # Row 1 is the first data row, under the header (as for CSV).
    return (f"SELECT {projection}, CAST(row_number() OVER (ORDER BY line_number) - {header_rows} AS BIGINT) "
            f"AS _row_number FROM ({kept}) AS k QUALIFY row_number() OVER (ORDER BY line_number) > {header_rows}",
            [str(path)])


def unique_names(names: list[str]) -> list[str]:
    """Column names made unique as DuckDB's CSV reader makes them: a repeated `Name` becomes `Name_1`."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        unique.append(name if count == 0 else f"{name}_{count}")
    return unique


def excel_to_parquet(path: Path, read: ReadOptions, target: Path) -> Path:
    """Copy one sheet of a workbook to a Parquet file of text columns; return the target.

    Cells keep what a person sees: whole numbers without `.0`, dates and
    times as ISO text, empty cells as NULL.
    """
    import pandas as pd

    frame = pd.read_excel(path, sheet_name=read.sheet if read.sheet is not None else 0, header=None,
                          skiprows=read.skip_rows, engine="calamine")
    if read.header:
        header = [str(v).strip() if pd.notna(v) else f"column{i}" for i, v in enumerate(frame.iloc[0])]
        frame = frame.iloc[1:]
    names = list(read.names) or (header if read.header else [f"column{i}" for i in range(frame.shape[1])])
    frame = frame.iloc[:, :len(names)]
    frame.columns = unique_names(names[:frame.shape[1]])
    text = pd.DataFrame({name: _as_text(frame[name]) for name in frame.columns})
    # The sheet's own data-row number (1 = the row under the header), so that a message names the row a
    # person sees; rows left blank in the sheet are not rows of the export.
    text["_row_number"] = range(1, len(text) + 1)
    text = text.dropna(how="all", subset=[c for c in text.columns if c != "_row_number"])
    text.to_parquet(target, index=False)
    return target


def _as_text(column):
    """A sheet column as text, vectorised (never a loop over its cells)."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(column):
        return column.dt.strftime("%Y-%m-%d %H:%M:%S").where(column.notna(), None)
    if pd.api.types.is_float_dtype(column):
        whole = column.dropna()
        if len(whole) and (whole == whole.round()).all() and whole.abs().max() < 2**53:
            return column.astype("Int64").astype("string").astype(object).where(column.notna(), None)
        return column.astype("string").astype(object).where(column.notna(), None)
    return column.astype("string").str.strip().astype(object).where(column.notna(), None)


def export_select(con: duckdb.DuckDBPyConnection, source: MappedSource, path: Path, file_format: str,
                  scratch: Path) -> tuple[str, list]:
    """A query over one export (already UTF-8 where it is text): its columns as text, plus `_row_number`."""
    if file_format == "csv":
        if source.read.delimiter == WHITESPACE:
            return _whitespace_select(con, path, source.read)
        return _csv_select(path, source.read)
    if file_format == "excel":
        sheet = excel_to_parquet(path, source.read, scratch / f"{path.stem}.parquet")
        return "SELECT * FROM read_parquet(?)", [str(sheet)]
    if file_format == "parquet":
        return parquet_select(path)
    return jsonl_select(con, path)


@dataclass(frozen=True)
class EntitySelect:
    """The query yielding one entity's rows from an export, and which export column fed each contract column."""

    sql: str
    params: list
    origins: dict[str, str]  # contract column -> the export column or expression it came from


def _matching_column(candidate: str, columns: list[str]) -> str | None:
    if candidate in columns:
        return candidate
    folded = {c.strip().casefold(): c for c in columns}
    return folded.get(candidate.strip().casefold())


PLACEHOLDER = re.compile(r"\{([a-z_]+)(?:\.([a-z_]+))?\}")


def stage_column(entity: str, column: str) -> str:
    """The name a mapped column has in the staged query (references read it by this name)."""
    return quote_identifier(f"__{entity}__{column}")


class _Resolver:
    """Turns a source's column mappings into SQL over one export, `{column}` references included.

    A reference reads the referenced column by name from an earlier stage of
    the query (stage_column), so expressions nest without nesting their
    window functions: the customers' first order is `min({orders.ordered_at})
    OVER (...)` even where ordered_at is itself a window.
    """

    def __init__(self, source: MappedSource, columns: list[str], file_name: str, typed_export: bool = False):
        self.source, self.columns, self.file_name = source, columns, file_name
        self.typed_export = typed_export  # Excel, Parquet, JSON Lines: numbers arrive as numbers
        self.sql: dict[tuple[str, str], str | None] = {}  # (entity, column) -> contract text SQL over stages
        self.depends: dict[tuple[str, str], set[tuple[str, str]]] = {}

    def base(self, entity: str, column: str) -> tuple[str | None, str]:
        """(SQL with references left in, where it came from) of one mapped column; None when not mapped."""
        candidates = self.source.entities[entity].columns.get(column)
        if candidates is None:
            return None, ""
        for candidate in candidates:
            if candidate.startswith("="):
                return candidate[1:].strip(), candidate[1:].strip()
            found = _matching_column(candidate, self.columns)
            if found is not None:
                return quote_identifier(found), found
        # None of the names is in this export: an optional column stays empty.
        if column in ENTITIES[entity].required_columns:
            raise MappingError(f"files.{self.source.name}.entities.{entity}.columns.{column}: {self.file_name} has "
                               f"none of {', '.join(map(repr, candidates))}; it has "
                               f"{', '.join(map(repr, self.columns))}")
        return None, ""

    def expand(self, entity: str, sql: str, seen: tuple[tuple[str, str], ...]) -> tuple[str, set[tuple[str, str]]]:
        """`sql` with every `{column}` / `{entity.column}` replaced by that column's stage name; and those columns."""
        used: set[tuple[str, str]] = set()

        def replace_reference(match: re.Match) -> str:
            target = (match.group(1), match.group(2)) if match.group(2) else (entity, match.group(1))
            if target[0] not in self.source.entities or target[1] not in ENTITIES[target[0]].columns:
                raise MappingError(f"files.{self.source.name}.entities.{entity}: {match.group(0)} names no mapped "
                                   "contract column of this source")
            if target in seen:
                raise MappingError(f"files.{self.source.name}.entities.{entity}: {match.group(0)} refers to itself")
            if self.text(*target, seen=seen + (target,)) is None:
                raise MappingError(f"files.{self.source.name}.entities.{entity}: {match.group(0)} is not mapped")
            used.add(target)
            return stage_column(*target)

        return PLACEHOLDER.sub(replace_reference, sql), used

    def text(self, entity: str, column: str, seen: tuple[tuple[str, str], ...] = ()) -> str | None:
        """SQL: the contract text of one mapped column (value formats applied), None when not mapped."""
        key = (entity, column)
        if key not in self.sql:
            sql, _ = self.base(entity, column)
            if sql is None:
                self.sql[key] = None
            else:
                expanded, used = self.expand(entity, sql, seen + (key,))
                kind = ENTITIES[entity].spec(column).type.kind
                self.sql[key] = contract_text(f"({expanded})", kind, self.source.formats, self.typed_export)
                self.depends[key] = used
        return self.sql[key]

    def level(self, key: tuple[str, str]) -> int:
        """0 for a column over the export alone, else one more than the deepest column it reads."""
        return 1 + max((self.level(used) for used in self.depends.get(key, ())), default=-1)

    def staged(self, wanted: list[tuple[str, str]], extra: dict[str, tuple[str, set]]) -> str:
        """SQL: the export with every wanted column (and what they read) added stage by stage.

        `extra` are further named expressions (the entity's row filter) with the columns they read.
        """
        needed: set[tuple[str, str]] = set()
        pending = list(wanted) + [u for _, used in extra.values() for u in used]
        while pending:
            key = pending.pop()
            if key not in needed and self.sql.get(key) is not None:
                needed.add(key)
                pending += list(self.depends.get(key, ()))
        levels: dict[int, list[str]] = {}
        for key in needed:
            levels.setdefault(self.level(key), []).append(f"{self.sql[key]} AS {stage_column(*key)}")
        for name, (sql, used) in extra.items():
            level = 1 + max((self.level(u) for u in used), default=-1)
            levels.setdefault(level, []).append(f"{sql} AS {quote_identifier(name)}")
        # Every stage is called `export`, so an expression may name the row's own columns as
        # export.<column>, e.g. in a lookup: (SELECT ... FROM people WHERE people.id = export.customer_id).
        query = "SELECT * FROM export"
        for level in sorted(levels):
            query = f"SELECT *, {', '.join(sorted(levels[level]))} FROM ({query}) AS export"
        return query


TYPED_FORMATS = ("excel", "parquet", "jsonl")


def entity_select(con: duckdb.DuckDBPyConnection, source: MappedSource, entity: str, file_sql: str,
                  params: list, file_name: str, landing_dir: Path, typed_export: bool = False) -> EntitySelect:
    """The query of one entity's rows from one export, checked against the export (bad SQL named at once).

    `typed_export`: the export's format types its values (TYPED_FORMATS), so numbers are not re-read in the
    local number format.
    """
    mapping = source.entities[entity]
    described = [row[0] for row in con.execute(f"DESCRIBE {file_sql}", params).fetchall()]
    columns = [c for c in described if c not in ("_row_number", "_parse_error", "_unparsed_line")]
    resolver = _Resolver(source, columns, file_name, typed_export)
    resolved = [c for c in mapping.columns if resolver.text(entity, c) is not None]
    lookups = "".join(f"{quote_identifier(name)} AS ({lookup_select(landing_dir / relative)}), "
                      for name, relative in source.lookups.items())
    extra = {}
    if mapping.where:
        where_sql, used = resolver.expand(entity, mapping.where, ())
        extra["_keep"] = (f"coalesce(({where_sql}), false)", used)
    staged = resolver.staged([(entity, c) for c in resolved], extra)
    projection = ", ".join(f"{stage_column(entity, c)} AS {quote_identifier(c)}" for c in resolved)
    lineage = "_row_number" + (", _parse_error, _unparsed_line" if "_parse_error" in described else "")
    # Window functions (line numbers, a customer's first order) see every row of the export; the
    # entity's filter applies to their results. A line that is not a record (malformed JSON) passes
    # every filter: the raw rules quarantine it, nothing drops it.
    keep = (" WHERE _keep" + (" OR _parse_error IS NOT NULL" if "_parse_error" in described else "")
            if mapping.where else "")
    mapped = f"SELECT {projection}, {lineage} FROM ({staged}) AS export{keep}"
    if mapping.distinct:
        mapped = (f"SELECT * EXCLUDE (_row_number), min(_row_number) AS _row_number FROM ({mapped}) AS rows "
                  "GROUP BY ALL")
    sql = f"WITH {lookups}export AS ({file_sql}) {mapped}"
    try:
        con.execute(f"DESCRIBE {sql}", params)
    except duckdb.Error as err:
        first_line = str(err).strip().splitlines()[0]
        raise MappingError(f"files.{source.name}.entities.{entity}: the mapping does not apply to {file_name}: "
                           f"{first_line}. Its columns: {', '.join(map(repr, columns))}") from None
    origins = {column: resolver.base(entity, column)[1] for column in resolved}
    return EntitySelect(sql, params, origins)


def lookup_select(path: Path) -> str:
    """SQL reading a lookup file (CSV, Parquet or JSON Lines, by name) as text columns."""
    fmt = file_format_of(path)
    literal = sql_literal(str(path))
    if fmt == "parquet":
        return f"SELECT * FROM read_parquet({literal})"
    if fmt == "jsonl":
        return f"SELECT * FROM read_json({literal}, format = 'newline_delimited', records = true)"
    return f"SELECT * FROM read_csv({literal}, header = true, all_varchar = true)"
