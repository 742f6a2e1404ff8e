"""Mapped file sources: exports in their own shape, mapped onto the source contract in the sources file.

    files:
      online_retail:                          # a name of your choice (the manifest note names it)
        glob: "exports/online_retail*.csv"    # relative to the landing directory
        preset: order_lines                   # optional: a shipped mapping this entry extends (presets/)
        format: csv                           # csv, excel, parquet or jsonl (default: from the file name)
        encoding: latin-1                     # csv: any Python codec (default: detected)
        delimiter: ","                        # csv: one character, "tab" or "whitespace" (default: sniffed)
        header: true                          # csv, excel: false when the first row is data
        names: [customer, date, n, amount]    # column names of a file without a header
        skip_rows: 0                          # csv, excel: lines before the header (a title, a blank line)
        sheet: Orders                         # excel: the sheet's name or number (default: the first)
        timestamp_formats: ["%d/%m/%Y %H:%M"] # tried in order before ISO (strftime codes, %z for an offset)
        time_zone: Europe/London              # of timestamps without an offset (default: var source_time_zone)
        decimal_separator: "."                # "," for 1.234,50
        thousands_separator: ","              # "", ",", ".", " " or "'"
        statuses: {invoiced: completed}       # source words -> completed, cancelled, refunded or pending
        lookups:                              # other files the expressions may read, as tables (a path
          people: "olist/olist_customers_dataset.csv"  # relative to the landing dir; CSV, Parquet, JSONL)
        entities:
          orders:
            distinct: true                    # one row per distinct mapped row (an order repeated on its lines)
            where: "{customer_id} IS NOT NULL"  # only the export rows that are this entity's (SQL)
            columns:
              order_id: InvoiceNo             # a column of the export (case does not matter),
              customer_id: [CustomerID, 客户编号]  # or a list: the first of these the export has,
              currency: "= 'GBP'"             # or "= <DuckDB SQL>" over its columns, _row_number,
                                              # lookups and {column} / {entity.column} of this source
          order_items:
            columns:
              line_number: "= row_number() OVER (PARTITION BY {order_id} ORDER BY _row_number)"

A file that a mapped source's glob matches is loaded by that source only (an
entity folder's own contract loading skips it); two sources may not load one
file into the same entity. The whole entry is part of each export's version,
so a corrected mapping loads the export again. One definition here, read by
the loader, `retention sources check` and `retention sources suggest`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from ingestion.contract import ENTITIES
from ingestion.sources_file import SourcesConfigError, checked_encoding, file_entries

PRESET_DIR = Path(__file__).resolve().parent / "presets"
FORMATS = ("csv", "excel", "parquet", "jsonl")
NORMALISED_STATUSES = ("completed", "cancelled", "refunded", "pending")
DELIMITER_WORDS = {"tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
WHITESPACE = "whitespace"
THOUSANDS_SEPARATORS = ("", ",", ".", " ", "'")
SOURCE_OPTIONS = {"glob", "preset", "format", "encoding", "delimiter", "header", "names", "skip_rows", "sheet",
                  "timestamp_formats", "time_zone", "decimal_separator", "thousands_separator", "statuses",
                  "lookups", "entities"}
ENTITY_OPTIONS = {"columns", "where", "distinct"}


@dataclass(frozen=True)
class EntityMapping:
    """How one entity's rows come out of an export: a filter, and an expression per contract column."""

    entity: str
    # contract column -> candidate source expressions (a column name or SQL), the first that applies wins
    columns: dict[str, tuple[str, ...]]
    where: str | None = None
    distinct: bool = False


@dataclass(frozen=True)
class ValueFormats:
    """How an export writes timestamps and numbers."""

    timestamp_formats: tuple[str, ...] = ()
    time_zone: str | None = None
    decimal_separator: str = "."
    thousands_separator: str = ""


@dataclass(frozen=True)
class ReadOptions:
    """How to read the export's files."""

    file_format: str | None = None  # None: from the file name
    encoding: str | None = None
    delimiter: str | None = None  # None: sniffed; WHITESPACE: runs of blanks
    header: bool = True
    names: tuple[str, ...] = ()
    skip_rows: int = 0
    sheet: str | int | None = None


@dataclass(frozen=True)
class MappedSource:
    """One `files:` entry with a mapping: a glob of exports feeding one or more entities."""

    name: str
    glob: str
    read: ReadOptions
    formats: ValueFormats
    entities: dict[str, EntityMapping]
    statuses: dict[str, str] = field(default_factory=dict)  # lower-case source word -> normalised status
    lookups: dict[str, str] = field(default_factory=dict)  # table name -> file path relative to the landing dir
    preset: str | None = None



def mapping_fingerprint(source: MappedSource) -> str:
    """Everything that decides what a mapped export's rows become, as canonical text (part of its version)."""
    return json.dumps(dataclasses.asdict(source), sort_keys=True, ensure_ascii=False, default=str)


def preset_names() -> list[str]:
    """The presets shipped with the project."""
    return sorted(path.stem for path in PRESET_DIR.glob("*.yml"))


@cache
def preset(name: str) -> dict:
    """A shipped preset: a `files:` entry without a glob."""
    path = PRESET_DIR / f"{name}.yml"
    if not path.exists():
        raise SourcesConfigError(f"unknown preset {name!r}; the project ships: {', '.join(preset_names())}")
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def merged_with_preset(settings: dict) -> dict:
    """The entry over its preset: options replace the preset's; `entities` merge column by column.

    When the entry lists entities, only those are fed (each merged with the
    preset's mapping of that entity); otherwise all of the preset's.
    """
    if not settings.get("preset"):
        return settings
    base = preset(str(settings["preset"]))
    merged = {**{k: v for k, v in base.items() if k != "description"}, **settings}
    base_entities = base.get("entities") or {}
    own_entities = settings.get("entities")
    if own_entities is None:
        merged["entities"] = base_entities
    else:
        merged["entities"] = {}
        for entity, own in own_entities.items():
            theirs = base_entities.get(entity) or {}
            own = own or {}
            merged["entities"][entity] = {**theirs, **own,
                                          "columns": {**(theirs.get("columns") or {}), **(own.get("columns") or {})}}
    merged["statuses"] = {**(base.get("statuses") or {}), **(settings.get("statuses") or {})}
    return merged


def _candidates(where: str, value: object) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    if not values or any(not isinstance(v, (str, int, float)) or str(v).strip() == "" for v in values):
        raise SourcesConfigError(f"{where}: a column is mapped to a source column name, an SQL expression or a "
                                 "list of column names")
    return tuple(str(v) for v in values)


def _entity_mapping(where: str, entity: str, spec: dict) -> EntityMapping:
    if entity not in ENTITIES:
        raise SourcesConfigError(f"{where}: unknown entity {entity!r}; the source contract has: "
                                 f"{', '.join(sorted(ENTITIES))}")
    unknown = set(spec) - ENTITY_OPTIONS
    if unknown:
        raise SourcesConfigError(f"{where}.{entity}: unknown option(s) {', '.join(sorted(unknown))}; "
                                 f"known: {', '.join(sorted(ENTITY_OPTIONS))}")
    contract = ENTITIES[entity]
    columns = spec.get("columns") or {}
    wrong = [c for c in columns if c not in contract.columns]
    if wrong:
        raise SourcesConfigError(f"{where}.{entity}.columns: {', '.join(map(repr, wrong))} not in the {entity} "
                                 f"contract ({', '.join(contract.columns)})")
    missing = [c for c in contract.required_columns if c not in columns]
    if missing:
        raise SourcesConfigError(f"{where}.{entity}.columns: the {entity} contract requires "
                                 f"{', '.join(missing)}; map each to a column or an expression")
    return EntityMapping(entity, {c: _candidates(f"{where}.{entity}.columns.{c}", v) for c, v in columns.items()},
                         str(spec["where"]) if spec.get("where") else None, bool(spec.get("distinct", False)))


def _read_options(where: str, settings: dict) -> ReadOptions:
    file_format = settings.get("format")
    if file_format is not None and file_format not in FORMATS:
        raise SourcesConfigError(f"{where}: format {file_format!r} is not one of {', '.join(FORMATS)}")
    encoding = checked_encoding(where, settings.get("encoding"))
    delimiter = settings.get("delimiter")
    if delimiter is not None:
        delimiter = DELIMITER_WORDS.get(str(delimiter), str(delimiter))
        if delimiter != WHITESPACE and len(delimiter) != 1:
            raise SourcesConfigError(f"{where}: delimiter {delimiter!r} is not one character, tab or whitespace")
    skip_rows = settings.get("skip_rows", 0)
    if not isinstance(skip_rows, int) or skip_rows < 0:
        raise SourcesConfigError(f"{where}: skip_rows must be a whole number of lines (0 or more)")
    names = tuple(str(n) for n in settings.get("names") or ())
    header = bool(settings.get("header", not names))
    return ReadOptions(file_format, encoding, delimiter, header, names, skip_rows,
                       settings.get("sheet"))


def _value_formats(where: str, settings: dict) -> ValueFormats:
    formats = settings.get("timestamp_formats") or []
    if isinstance(formats, str):
        formats = [formats]
    decimal = str(settings.get("decimal_separator", "."))
    thousands = str(settings.get("thousands_separator", ""))
    if decimal not in (".", ","):
        raise SourcesConfigError(f"{where}: decimal_separator must be '.' or ','")
    if thousands not in THOUSANDS_SEPARATORS or thousands == decimal:
        raise SourcesConfigError(f"{where}: thousands_separator must be one of "
                                 f"{', '.join(repr(s) for s in THOUSANDS_SEPARATORS)} and differ from the decimal "
                                 "separator")
    return ValueFormats(tuple(str(f) for f in formats), settings.get("time_zone"), decimal, thousands)


def _statuses(where: str, statuses: dict) -> dict[str, str]:
    words = {}
    for word, status in (statuses or {}).items():
        if status not in NORMALISED_STATUSES:
            raise SourcesConfigError(f"{where}.statuses: {word!r} -> {status!r}: a status maps to one of "
                                     f"{', '.join(NORMALISED_STATUSES)}")
        words[str(word).strip().lower()] = str(status)
    return words


def mapped_source(path: Path | None, name: str, settings: dict) -> MappedSource:
    """One validated `files:` entry with a mapping (or a preset)."""
    where = f"{path}: files.{name}" if path else f"files.{name}"
    settings = merged_with_preset(settings)
    unknown = set(settings) - SOURCE_OPTIONS
    if unknown:
        raise SourcesConfigError(f"{where}: unknown option(s) {', '.join(sorted(unknown))}; "
                                 f"known: {', '.join(sorted(SOURCE_OPTIONS))}")
    entities = settings.get("entities") or {}
    if not isinstance(entities, dict) or not entities:
        raise SourcesConfigError(f"{where}: 'entities' names the entities the files feed and maps their columns")
    lookups = {str(k): str(v) for k, v in (settings.get("lookups") or {}).items()}
    return MappedSource(
        name=str(name), glob=str(settings["glob"]), read=_read_options(where, settings),
        formats=_value_formats(where, settings),
        entities={e: _entity_mapping(f"{where}.entities", e, spec or {}) for e, spec in entities.items()},
        statuses=_statuses(where, settings.get("statuses") or {}), lookups=lookups,
        preset=settings.get("preset"),
    )


def mapped_sources(path: Path | None) -> list[MappedSource]:
    """The `files:` entries that map exports onto the contract (those with `entities` or a `preset`)."""
    return [mapped_source(path, name, settings) for name, settings, mapped in file_entries(path) if mapped]
