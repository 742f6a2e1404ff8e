"""The source contract: canonical entities, their columns and keys.

Real exports are mapped onto these names; the raw tables always carry at least
these columns (NULL where a source lacks one), so the dbt staging models
compile whatever arrives and the quality gates can name what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entity:
    """One source entity: where it comes from, its key and its canonical columns."""

    name: str
    source_system: str
    key_columns: tuple[str, ...]
    columns: tuple[str, ...]
    # Columns without which no row is usable (keys, references, event times,
    # amounts, scores): a file lacking one is refused. The other contract
    # columns may be absent and stay NULL.
    required_columns: tuple[str, ...] = ()
    # Columns that point at another entity's key: {column: parent entity}.
    references: tuple[tuple[str, str], ...] = ()

    @property
    def raw_table(self) -> str:
        """Qualified name of the entity's table in the warehouse's raw schema."""
        return f"raw.{self.name}"


CUSTOMERS = Entity(
    name="customers",
    source_system="crm",
    key_columns=("customer_id",),
    columns=(
        "customer_id", "name", "email", "phone", "company", "industry", "country",
        "city", "acquisition_channel", "account_owner", "created_at", "updated_at",
    ),
    required_columns=("customer_id", "created_at"),
)
INTERACTIONS = Entity(
    name="interactions",
    source_system="crm",
    key_columns=("interaction_id",),
    columns=("interaction_id", "customer_id", "occurred_at", "interaction_type", "status", "subject"),
    required_columns=("interaction_id", "customer_id", "occurred_at"),
    references=(("customer_id", "customers"),),
)
ORDERS = Entity(
    name="orders",
    source_system="orders",
    key_columns=("order_id",),
    columns=(
        "order_id", "customer_id", "ordered_at", "status", "currency",
        "order_discount", "order_total", "sales_channel",
    ),
    required_columns=("order_id", "customer_id", "ordered_at", "status"),
    references=(("customer_id", "customers"),),
)
ORDER_ITEMS = Entity(
    name="order_items",
    source_system="orders",
    key_columns=("order_id", "line_number"),
    columns=("order_id", "line_number", "product_id", "product_category", "quantity", "unit_price", "line_discount"),
    required_columns=("order_id", "line_number", "quantity", "unit_price"),
    references=(("order_id", "orders"),),
)
SURVEY_RESPONSES = Entity(
    name="survey_responses",
    source_system="surveys",
    key_columns=("response_id",),
    columns=("response_id", "customer_id", "survey_type", "score", "submitted_at", "comment"),
    required_columns=("response_id", "customer_id", "survey_type", "score", "submitted_at"),
    references=(("customer_id", "customers"),),
)

ENTITIES: dict[str, Entity] = {
    e.name: e for e in (CUSTOMERS, INTERACTIONS, ORDERS, ORDER_ITEMS, SURVEY_RESPONSES)
}


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
