"""`retention sources suggest FILE...`: a draft mapping from an export's header and a sample of its rows.

For each file: its format, encoding and delimiter (DuckDB's sniffer), whether
it has a header, and per contract column the export column it most likely
is: by name first (the names every shipped preset lists, in English and
Chinese, compared without case, blanks or punctuation), then, for columns
no name matched (a file without a header), by what the values look like
(dates, whole numbers, amounts, ids). Timestamp and number formats are
those that read most of the sample; the statuses found are shown with the
status each maps to. The draft is applied to the sample, and the share of
rows that would pass the raw rules is written at its top, so that the user
edits a draft that already loads instead of starting from nothing.
"""

from __future__ import annotations

import re
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from ingestion.contract import ENTITIES
from ingestion.landing.encoding import fingerprint, transcode_to_utf8
from ingestion.mapping.select import TYPED_FORMATS, MappingError, entity_select, export_format, export_select
from ingestion.mapping.spec import PRESET_DIR, WHITESPACE, SourcesConfigError, mapped_source, preset, preset_names
from ingestion.mapping.values import sql_literal
from ingestion.pii import define_pseudonym_macro
from quality.rules.raw import status_map

SAMPLE_ROWS = 2000
# Formats tried on timestamp columns, most specific first; ISO text needs none.
TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S %z", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%m/%d/%Y", "%d/%m/%Y",
    "%d.%m.%Y", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日",
)
# What the draft says where the user must name the column.
UNMAPPED = "<column of the export>"
# A value typed as a timestamp must read for at least this share of the sample to count as one.
READS = 0.9


def _folded(name: str) -> str:
    return re.sub(r"[^0-9a-z\u4e00-\u9fff]", "", name.casefold())


def known_names() -> dict[tuple[str, str], list[str]]:
    """(entity, contract column) -> every header name the shipped presets know it by, the contract name first."""
    names: dict[tuple[str, str], list[str]] = {}
    for entity in ENTITIES.values():
        for column in entity.columns:
            names[(entity.name, column)] = [column]
    for name in preset_names():
        for entity, spec in (preset(name).get("entities") or {}).items():
            for column, candidates in (spec.get("columns") or {}).items():
                # Only alias lists: a single name belongs to the one export its preset is for (Shopify's
                # `Name` is an order id there, a person's name elsewhere).
                if isinstance(candidates, list):
                    names[(entity, column)] += [str(v) for v in candidates if not str(v).startswith("=")]
    return names


@dataclass
class ColumnProfile:
    """What the sample values of one export column look like."""

    name: str
    filled: float  # share of sample rows with a value
    distinct: int
    kind: str  # "timestamp", "integer", "decimal" or "text"
    timestamp_format: str | None = None  # None: ISO (or not a timestamp)
    samples: list[str] = field(default_factory=list)


def profile_columns(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> list[ColumnProfile]:
    """Profile every export column of the sample table (in DuckDB: counts, parse shares)."""
    profiles = []
    (rows,) = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    for column in columns:
        quoted = '"' + column.replace('"', '""') + '"'
        value = f"nullif(trim({quoted}), '')"
        filled, distinct, numeric, whole = con.execute(
            f"SELECT count({value}), count(DISTINCT {value}), "
            f"count(try_cast(replace(regexp_replace({value}, '[^0-9.,-]', '', 'g'), ',', '') AS DOUBLE)) "
            f"FILTER (regexp_matches({value}, '^[^A-Za-z]*[0-9][^A-Za-z]*$')), "
            f"count(*) FILTER (regexp_matches({value}, '^-?[0-9]+$')) FROM {table}").fetchone()
        samples = [v for (v,) in con.execute(f"SELECT DISTINCT {value} FROM {table} WHERE {value} IS NOT NULL "
                                             "LIMIT 5").fetchall()]
        kind, fmt = "text", None
        if filled:
            best = best_timestamp_format(con, table, value, filled)
            is_date_number = best is not None and best[0] == "%Y%m%d"
            if best is not None and (not whole or is_date_number):
                kind, fmt = "timestamp", best[0]
            elif whole >= READS * filled:
                kind = "integer"
            elif numeric >= READS * filled:
                kind = "decimal"
        profiles.append(ColumnProfile(column, filled / rows if rows else 0.0, distinct, kind, fmt, samples))
    return profiles


def best_timestamp_format(con: duckdb.DuckDBPyConnection, table: str, value: str,
                          filled: int) -> tuple[str | None, int] | None:
    """(format, rows read) of the format reading most of a column; (None, n) for ISO; None when none reads enough."""
    (iso,) = con.execute(f"SELECT count(try_cast({value} AS TIMESTAMP)) FROM {table} "
                         f"WHERE regexp_matches({value}, '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')").fetchone()
    results = [(None, iso)]
    for fmt in TIMESTAMP_FORMATS:
        (read,) = con.execute(f"SELECT count(try_strptime({value}, {sql_literal(fmt)})) FROM {table}").fetchone()
        results.append((fmt, read))
    best = max(results, key=lambda r: r[1])  # first of the ties: ISO, then the most specific format
    return best if best[1] >= READS * filled else None


def guess_columns(profiles: list[ColumnProfile], has_header: bool) -> dict[str, dict[str, str]]:
    """entity -> contract column -> export column, by name (and, without a header, by the values)."""
    names = known_names()
    by_folded = {_folded(p.name): p.name for p in profiles}
    guessed: dict[str, dict[str, str]] = {}
    for (entity, column), candidates in names.items():
        found = next((by_folded[_folded(c)] for c in candidates if _folded(c) in by_folded), None)
        if found is not None:
            guessed.setdefault(entity, {})[column] = found
    if not has_header:
        guess_by_values(profiles, guessed)
    return guessed


def guess_by_values(profiles: list[ColumnProfile], guessed: dict[str, dict[str, str]]) -> None:
    """Fill orders' customer, time and amount from what headerless columns hold (a purchase log)."""
    taken = {c for columns in guessed.values() for c in columns.values()}
    free = [p for p in profiles if p.name not in taken]
    orders = guessed.setdefault("orders", {})
    ids = [p for p in free if p.kind in ("integer", "text") and p.filled > 0.99 and p.distinct > 1]
    if "customer_id" not in orders and ids:
        orders["customer_id"] = ids[0].name
    stamps = [p for p in free if p.kind == "timestamp"]
    if "ordered_at" not in orders and stamps:
        orders["ordered_at"] = stamps[0].name
    amounts = [p for p in free if p.kind == "decimal"]
    if "order_total" not in orders and amounts:
        orders["order_total"] = amounts[-1].name


def detect_number_format(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> dict[str, str]:
    """decimal_separator / thousands_separator options the amounts need ({} for plain 1234.50)."""
    if not columns:
        return {}
    values = " UNION ALL ".join(f'SELECT trim("{c}") AS v FROM {table}' for c in columns)
    comma_decimal, comma_thousands, dot_thousands = con.execute(
        f"SELECT count(*) FILTER (regexp_matches(v, '^[^,.]*[0-9],[0-9]{{1,2}}[^0-9]*$')), "
        f"count(*) FILTER (regexp_matches(v, '[0-9],[0-9]{{3}}([^0-9]|$)') "
        f"AND NOT regexp_matches(v, ',[0-9]{{1,2}}$')), "
        f"count(*) FILTER (regexp_matches(v, '[0-9][.][0-9]{{3}},[0-9]')) FROM ({values})").fetchone()
    if comma_decimal or dot_thousands:
        return {"decimal_separator": ",", "thousands_separator": "." if dot_thousands else ""}
    if comma_thousands:
        return {"thousands_separator": ","}
    return {}


@dataclass
class Suggestion:
    """A draft `files:` entry for one export, and what was found on the way."""

    name: str
    draft: dict
    notes: list[str]


def entities_for(guessed: dict[str, dict[str, str]], profiles: dict[str, ColumnProfile]) -> dict[str, dict]:
    """The entities the export can feed, each with its column mapping (generated ids and lines where needed)."""
    entities: dict[str, dict] = {}
    orders = guessed.get("orders", {})
    lines = guessed.get("order_items", {})
    has_lines = {"quantity", "unit_price"} <= set(lines)
    # An order export has amounts, lines or statuses: a customer list with an id and a date is not one.
    if "ordered_at" in orders and ("order_total" in orders or has_lines or "status" in orders):
        columns = dict(orders)
        if "order_id" not in columns:
            # A purchase log: every row is an order of its own.
            columns["order_id"] = "= {customer_id} || '-' || _row_number"
        columns.setdefault("status", "= 'completed'")
        if "order_total" not in columns and not has_lines:
            money = [c for c in profiles.values() if c.kind == "decimal" and c.name not in columns.values()]
            if money:
                columns["order_total"] = money[-1].name
        entities["orders"] = {"distinct": True, "columns": columns} if has_lines else {"columns": columns}
        if has_lines:
            line_columns = {"order_id": columns["order_id"], **lines}
            line_columns.setdefault("line_number", "= row_number() OVER (PARTITION BY {order_id} ORDER BY _row_number)")
            entities["order_items"] = {"columns": line_columns}
    customers = guessed.get("customers", {})
    customer_id = customers.get("customer_id") or orders.get("customer_id")
    if customer_id:
        columns = {"customer_id": customer_id, **{k: v for k, v in customers.items() if k != "customer_id"}}
        if "orders" in entities and columns.get("created_at") in (None, orders.get("ordered_at")):
            # From an order export, a customer is known from their first order on.
            columns["created_at"] = "= min({orders.ordered_at}) OVER (PARTITION BY {customer_id})"
        if "created_at" not in columns and {"name", "email", "phone"} & set(columns):
            columns["created_at"] = UNMAPPED  # a customer list without a creation date: the user names one
        if "created_at" in columns:
            spec: dict = {"columns": columns}
            if "orders" in entities:
                spec = {"distinct": True, "where": "{customer_id} IS NOT NULL", "columns": columns}
            entities["customers"] = spec
    for name in ("survey_responses", "interactions"):
        found = guessed.get(name, {})
        if set(ENTITIES[name].required_columns) - {"survey_type"} <= set(found) and "orders" not in entities:
            spec_columns = dict(found)
            if name == "survey_responses":
                spec_columns.setdefault("survey_type", "= 'nps'")
            entities[name] = {"columns": spec_columns}
    return entities


def suggest(path: Path, landing_dir: Path | None = None) -> Suggestion:
    """A draft mapping for one export file."""
    notes: list[str] = []
    name = re.sub(r"[^0-9a-z]+", "_", path.stem.lower()).strip("_") or "export"
    glob = path.resolve().relative_to(landing_dir.resolve()).as_posix() if landing_dir and _under(path, landing_dir) \
        else f"exports/{path.name}"
    draft: dict = {"glob": glob}
    probe = mapped_source(None, name, {"glob": glob, "entities": {"customers": {"columns": {
        "customer_id": "= 1", "created_at": "= 1"}}}})
    file_format = export_format(probe, path) or "csv"
    with tempfile.TemporaryDirectory(prefix="retention-suggest-") as scratch, duckdb.connect() as con:
        readable = path
        if file_format in ("csv", "jsonl"):
            seen = fingerprint(path, inspect_text=True)
            if seen.encoding not in (None, "utf-8"):
                draft["encoding"] = seen.encoding
                notes.append(f"encoding: {seen.describe()}")
            if seen.needs_transcoding:
                readable = Path(scratch) / f"utf8{path.suffix or '.txt'}"
                transcode_to_utf8(path, readable, seen.encoding)
        if file_format == "csv":
            draft.update(csv_options(con, readable, notes))
            if not path.name.lower().endswith((".csv", ".tsv", ".csv.gz")):
                draft["format"] = "csv"
        elif file_format != export_format(probe, path):
            draft["format"] = file_format
        source = mapped_source(None, name, {**draft, "entities": {"customers": {"columns": {
            "customer_id": "= 1", "created_at": "= 1"}}}})
        file_sql, params = export_select(con, source, readable, file_format, Path(scratch))
        con.execute(f"CREATE TEMP TABLE sample AS SELECT * FROM ({file_sql}) AS export LIMIT {SAMPLE_ROWS}", params)
        columns = [c for (c,) in con.execute("SELECT column_name FROM (DESCRIBE sample)").fetchall()
                   if c not in ("_row_number", "_parse_error", "_unparsed_line")]
        recognised = matching_preset(columns)
        if recognised is not None:
            notes.append(f"the header is that of the {recognised} preset's export: the draft extends it")
            draft = {**draft, "preset": recognised}
            notes += parse_shares(con, name, draft, readable, file_format, Path(scratch), path.name)
            return Suggestion(name, draft, notes)
        profiles = {p.name: p for p in profile_columns(con, "sample", columns)}
        guessed = guess_columns(list(profiles.values()), has_header=draft.get("header", True))
        entities = entities_for(guessed, profiles)
        if not entities:
            notes.append("no entity could be recognised: map the columns by hand (see README, Load your own exports)")
            entities = {"orders": {"columns": {c: UNMAPPED for c in ENTITIES["orders"].required_columns}}}
        draft.update(value_formats(con, entities, profiles, notes))
        statuses = found_statuses(con, entities, notes)
        if statuses:
            draft["statuses"] = statuses
        draft["entities"] = entities
        if UNMAPPED not in str(entities):
            notes += parse_shares(con, name, draft, readable, file_format, Path(scratch), path.name)
    return Suggestion(name, draft, notes)


def matching_preset(columns: list[str]) -> str | None:
    """The preset written for exactly this kind of export (Shopify's), when the header has its columns.

    Only presets that name single export columns (not alias lists) say which
    export they are for; at least 80 % of those names must be in the header.
    """
    header = {_folded(c) for c in columns}
    for name in preset_names():
        named = {_folded(str(v)) for spec in (preset(name).get("entities") or {}).values()
                 for v in (spec.get("columns") or {}).values()
                 if isinstance(v, str) and not v.startswith("=")}
        if len(named) >= 5 and len(named & header) >= 0.8 * len(named):
            return name
    return None


def _under(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def csv_options(con: duckdb.DuckDBPyConnection, path: Path, notes: list[str]) -> dict:
    """Delimiter and header of a delimited text file (DuckDB's sniffer; runs of blanks as `whitespace`)."""
    head = path.read_bytes()[:65536].decode("utf-8", errors="replace").splitlines()[:20]
    lines = [line for line in head if line.strip()]
    if lines and all(re.search(r"\S\s{2,}\S|^\s+\S", line) or (" " in line.strip() and "," not in line
                                                              and "\t" not in line and ";" not in line)
                     for line in lines):
        notes.append("fields separated by runs of blanks: delimiter whitespace")
        header = not re.search(r"\d", lines[0])
        return {"delimiter": WHITESPACE, "header": header} if header else {"delimiter": WHITESPACE, "header": False}
    sniffed = con.execute("SELECT Delimiter, HasHeader FROM sniff_csv(?)", [str(path)]).fetchone()
    options: dict = {}
    if sniffed:
        delimiter, has_header = sniffed
        if delimiter != ",":
            options["delimiter"] = {"\t": "tab"}.get(delimiter, delimiter)
        if not has_header:
            options["header"] = False
        notes.append(f"delimiter {delimiter!r}, {'a header row' if has_header else 'no header row'} (sniffed)")
    return options


def value_formats(con: duckdb.DuckDBPyConnection, entities: dict[str, dict], profiles: dict[str, ColumnProfile],
                  notes: list[str]) -> dict:
    """timestamp_formats and number separators the mapped columns need."""
    options: dict = {}
    formats: list[str] = []
    amounts: list[str] = []
    for entity, spec in entities.items():
        for column, origin in spec["columns"].items():
            profile = profiles.get(origin)
            if profile is None:
                continue
            kind = ENTITIES[entity].spec(column).type.kind
            if kind == "timestamp" and profile.timestamp_format and profile.timestamp_format not in formats:
                formats.append(profile.timestamp_format)
                notes.append(f"{origin}: timestamps like {profile.samples[0]!r} read as {profile.timestamp_format}")
                if profile.timestamp_format.startswith(("%m/%d", "%d/%m")):
                    notes.append(f"{origin}: day and month order guessed from the sample; check it")
            if kind in ("decimal", "integer"):
                amounts.append(origin)
    if formats:
        options["timestamp_formats"] = formats
    options.update(detect_number_format(con, "sample", sorted(set(amounts))))
    return options


def found_statuses(con: duckdb.DuckDBPyConnection, entities: dict[str, dict], notes: list[str]) -> dict[str, str]:
    """The statuses in the sample and how they map, in the notes; none is drafted as a word of the source.

    An unknown status left out keeps the run's warning (status_mapped) until the user maps it, instead of
    a drafted guess that would silence it.
    """
    origin = entities.get("orders", {}).get("columns", {}).get("status")
    if not origin or origin.startswith("="):
        return {}
    known = status_map()
    found = [v for (v,) in con.execute(
        f'SELECT DISTINCT trim("{origin}") FROM sample WHERE nullif(trim("{origin}"), \'\') IS NOT NULL '
        "ORDER BY 1 LIMIT 50").fetchall()]
    mapped = [f"{v} -> {known[v.lower()]}" for v in found if v.lower() in known]
    unknown = [v for v in found if v.lower() not in known]
    if mapped:
        notes.append("statuses: " + ", ".join(mapped))
    if unknown:
        notes.append("statuses no mapping knows (they count as pending until you map them under `statuses:` as "
                     f"completed, cancelled, refunded or pending): {', '.join(unknown)}")
    return {}


def parse_shares(con: duckdb.DuckDBPyConnection, name: str, draft: dict, path: Path, file_format: str,
                 scratch: Path, file_name: str) -> list[str]:
    """Apply the draft to the sample: per entity, the share of rows its row rules would let through."""
    from quality.rules.raw import raw_row_rules

    try:
        source = mapped_source(None, name, draft)
    except SourcesConfigError as err:
        return [f"the draft is incomplete: {err}"]
    # A throwaway key: the sample's pseudonyms never leave this process.
    define_pseudonym_macro(con, secrets.token_hex(32))
    notes = []
    file_sql, params = export_select(con, source, path, file_format, scratch)
    file_sql = f"SELECT * FROM ({file_sql}) AS export LIMIT {SAMPLE_ROWS}"
    for entity in source.entities:
        try:
            selected = entity_select(con, source, entity, file_sql, params, file_name, scratch,
                                     file_format in TYPED_FORMATS)
        except MappingError as err:
            notes.append(f"{entity}: {err}")
            continue
        table = f"draft_{entity}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {selected.sql}", selected.params)
        for column in (*ENTITIES[entity].columns, "_parse_error", "_source_file"):
            con.execute(f'ALTER TABLE {table} ADD COLUMN IF NOT EXISTS "{column}" VARCHAR')
        rules = [r for r in raw_row_rules(entity) if r.severity == "error" and "{batch}" not in r.predicate
                 and not r.name.endswith(("_known", "_accepted"))]
        broken = " OR ".join(f"coalesce(({r.predicate}), false)" for r in rules) or "false"
        rows, bad = con.execute(f"SELECT count(*), count(*) FILTER ({broken}) FROM {table}").fetchone()
        share = (rows - bad) / rows if rows else 0.0
        notes.append(f"{entity}: {rows - bad:,} of {rows:,} sample rows ({share:.1%}) pass the row rules")
    return notes


def draft_text(suggestions: list[Suggestion]) -> str:
    """The drafts as a `files:` section of the sources file, with what was found as comments."""
    lines = ["# Draft by `retention sources suggest`: check every guess, then run `retention sources check`.",
             f"# Presets you may extend instead (preset: <name>): {', '.join(preset_names())} ({PRESET_DIR}).",
             "files:"]
    for suggestion in suggestions:
        lines += [f"  # {note}" for note in suggestion.notes]
        body = yaml.safe_dump({suggestion.name: suggestion.draft}, allow_unicode=True, sort_keys=False, width=110)
        lines += ["  " + line for line in body.splitlines()]
    return "\n".join(lines) + "\n"
