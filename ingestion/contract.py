"""The source contract: canonical entities, their columns, keys, references and types.

The definition itself lives in one place, the dbt vars `source_contract` and
`source_types` of dbt_project/dbt_project.yml, because the dbt staging models
cast through it (macro `contract_value`) and Python reads it here for
everything else: the loaders (which columns a file must have), the raw rules
(a value must convert to its column's type, within its bounds), the
reconciliation (keys as staging types them) and the redaction of personal
values. Real exports are mapped onto these names; the raw tables always carry
at least these columns (NULL where a source lacks one).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

DBT_PROJECT_FILE = Path(__file__).resolve().parent.parent / "dbt_project" / "dbt_project.yml"


@dataclass(frozen=True)
class ColumnType:
    """A contract type: text, timestamp, integer or decimal, with its bounds."""

    name: str
    kind: str  # "text", "timestamp", "integer" or "decimal"
    precision: int | None = None
    scale: int | None = None
    minimum: float | str | None = None  # a number, or for timestamps an ISO date
    maximum: float | None = None

    @property
    def sql(self) -> str:
        """The SQL type staging casts to (DuckDB names; dbt writes the same for its adapters)."""
        if self.kind == "decimal":
            return f"DECIMAL({self.precision}, {self.scale})"
        return {"text": "VARCHAR", "timestamp": "TIMESTAMP", "integer": "INTEGER"}[self.kind]


@dataclass(frozen=True)
class Column:
    """One contract column of an entity."""

    name: str
    type: ColumnType
    required: bool = False  # a file without it is refused
    pii: bool = False  # personal data: pseudonymised, redacted from previews and logs
    references: str | None = None  # the parent entity whose key this column names
    warn_only: bool = False  # a value breaking its type's rules is reported, not quarantined
    nullable: bool = False  # an empty reference is a fact (a guest order), not a defect


@dataclass(frozen=True)
class Entity:
    """One source entity: where it comes from, its key and its canonical columns."""

    name: str
    source_system: str
    key_columns: tuple[str, ...]
    specs: tuple[Column, ...]
    # Columns that, beyond the key, tell two versions of a row apart (customers: updated_at).
    version_columns: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """The contract column names, in contract order."""
        return tuple(c.name for c in self.specs)

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Columns without which no row is usable (keys, references, event times, amounts, scores)."""
        return tuple(c.name for c in self.specs if c.required)

    @property
    def references(self) -> tuple[tuple[str, str], ...]:
        """(column, parent entity) for every column that names another entity's key."""
        return tuple((c.name, c.references) for c in self.specs if c.references)

    @property
    def pii_columns(self) -> frozenset[str]:
        """Columns holding personal data."""
        return frozenset(c.name for c in self.specs if c.pii)

    @property
    def nullable_columns(self) -> frozenset[str]:
        """References that may be empty (an order's customer: a guest order)."""
        return frozenset(c.name for c in self.specs if c.nullable)

    def spec(self, column: str) -> Column:
        """The contract definition of one column."""
        return next(c for c in self.specs if c.name == column)

    @property
    def raw_table(self) -> str:
        """Qualified name of the entity's table in the warehouse's raw schema (every version received)."""
        return f"raw.{self.name}"

    @property
    def current_raw_table(self) -> str:
        """The view of the raw rows that count: those of each file's latest version and every extraction."""
        return f"raw.{self.name}__current"


@cache
def dbt_vars() -> dict:
    """The vars of dbt_project.yml (the contract and the project's defaults)."""
    return yaml.safe_load(DBT_PROJECT_FILE.read_text(encoding="utf-8"))["vars"]


def _column_type(name: str, spec: dict) -> ColumnType:
    return ColumnType(name, spec["kind"], spec.get("precision"), spec.get("scale"), spec.get("min"), spec.get("max"))


@cache
def contract() -> dict[str, Entity]:
    """Every entity of the source contract, by name, read from dbt_project.yml."""
    project = dbt_vars()
    types = {name: _column_type(name, spec) for name, spec in project["source_types"].items()}
    entities = {}
    for name, spec in project["source_contract"].items():
        columns = tuple(
            Column(column, types[props["type"]], bool(props.get("required")), bool(props.get("pii")),
                   props.get("references"), bool(props.get("warn_only")), bool(props.get("nullable")))
            for column, props in spec["columns"].items()
        )
        entities[name] = Entity(name, spec["source_system"], tuple(spec["key"]), columns,
                                tuple(spec.get("version", ())))
    return entities


ENTITIES: dict[str, Entity] = contract()
CUSTOMERS = ENTITIES["customers"]
INTERACTIONS = ENTITIES["interactions"]
ORDERS = ENTITIES["orders"]
ORDER_ITEMS = ENTITIES["order_items"]
SURVEY_RESPONSES = ENTITIES["survey_responses"]


def entity_named(name: str) -> Entity:
    """Return the entity called `name`, or raise a ValueError listing the known ones."""
    try:
        return ENTITIES[name]
    except KeyError:
        known = ", ".join(sorted(ENTITIES))
        raise ValueError(f"unknown entity {name!r}; the source contract has: {known}") from None


def staging_model(entity: Entity) -> str:
    """The dbt staging model of an entity: stg_<source system>__<entity>."""
    return f"stg_{entity.source_system}__{entity.name}"
