"""Deliberate defects in the demo data, for exercising the quality gates.

For each entity a share `rate` of its rows (rounded down, but at least one row
per applicable kind) is made defective, split evenly across the kinds that
apply to the entity. Every defective row carries exactly one defect, and the
returned counts are exact, so tests can count the defects back from the files:

- `bad_timestamp`: unparseable text (`not-a-date`, `2024-13-45`, ...) in the
  entity's event timestamp (created_at, occurred_at, ordered_at, submitted_at);
- `future_timestamp`: that timestamp moved years after the end date;
- `negative_amount`: a negative order_discount (orders), or a negative
  unit_price or quantity (order_items);
- `wrong_type`: text such as `abc` in a numeric column (order_discount;
  quantity or unit_price; score);
- `orphan_customer` / `orphan_order`: a customer_id / order_id that does not
  exist (customer ids from C90000000 up, order ids from O900000000 up);
- `out_of_scale_score`: NPS 11, CSAT 0 or 6;
- `duplicate_id`: an added copy of a row with the same key but different
  content (another status, quantity, score or e-mail address; for customers
  the same customer_id *and* updated_at, so the latest version is ambiguous);
- `exact_duplicate`: an added, identical copy of a row;
- `missing_key`: an added copy of a row whose key (customer_id, interaction_id,
  order_id, order_id of a line, response_id) is empty.

The three duplicate-like kinds add rows instead of changing one: emptying or
changing the key of an existing customer or order would silently orphan its
lines, interactions or surveys and give those a second defect. Sources of the
added copies are clean rows, so a copy never carries two defects either.
Added rows are scattered through the table, not appended at the end.

Defective values are written as text, which only CSV can hold: the generator
writes every entity as CSV when the rate is above zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.demo import vocabulary as vocab
from ingestion.demo.behaviour import SECONDS_PER_YEAR, Timeline, timestamp_column
from ingestion.demo.rendering import OVERRIDE_PREFIX

DEFECT_KINDS: tuple[str, ...] = (
    "bad_timestamp", "future_timestamp", "negative_amount", "wrong_type", "duplicate_id",
    "exact_duplicate", "orphan_customer", "orphan_order", "out_of_scale_score", "missing_key",
)
ADDED_ROW_KINDS = frozenset({"duplicate_id", "exact_duplicate", "missing_key"})

BAD_TIMESTAMPS: tuple[str, ...] = (
    "not-a-date", "2024-13-45", "31/02/2024 25:61", "0000-00-00 00:00:00", "2024-02-30T10:00:00Z", "yesterday",
)
WRONG_TYPE_TEXT: tuple[str, ...] = ("abc", "twelve", "#VALUE!", "1O0", "十二", "--")
ORPHAN_CUSTOMER_ID_BASE = 90_000_000
ORPHAN_ORDER_ID_BASE = 900_000_000


@dataclass(frozen=True)
class EntityDefects:
    """Which defects apply to an entity and where they go."""

    key: str  # emptied by missing_key
    timestamp: str | None  # target of bad_timestamp and future_timestamp
    text_targets: tuple[str, ...]  # numeric columns that wrong_type fills with text
    kinds: tuple[str, ...]

    @property
    def override_columns(self) -> tuple[str, ...]:
        """Staged replacement-text columns this entity gets (see `rendering`)."""
        targets = ((self.timestamp,) if self.timestamp else ()) + self.text_targets
        return tuple(OVERRIDE_PREFIX + column for column in targets)


ENTITY_DEFECTS: dict[str, EntityDefects] = {
    "customers": EntityDefects(
        "customer_id", "created_at", (),
        ("bad_timestamp", "future_timestamp", "duplicate_id", "exact_duplicate", "missing_key")),
    "interactions": EntityDefects(
        "interaction_id", "occurred_at", (),
        ("bad_timestamp", "future_timestamp", "duplicate_id", "exact_duplicate", "orphan_customer", "missing_key")),
    "orders": EntityDefects(
        "order_id", "ordered_at", ("order_discount",),
        ("bad_timestamp", "future_timestamp", "negative_amount", "wrong_type", "duplicate_id", "exact_duplicate",
         "orphan_customer", "missing_key")),
    "order_items": EntityDefects(
        "order_id", None, ("quantity", "unit_price"),
        ("negative_amount", "wrong_type", "duplicate_id", "exact_duplicate", "orphan_order", "missing_key")),
    "survey_responses": EntityDefects(
        "response_id", "submitted_at", ("score",),
        ("bad_timestamp", "future_timestamp", "wrong_type", "duplicate_id", "exact_duplicate", "orphan_customer",
         "out_of_scale_score", "missing_key")),
}


def no_defects() -> dict[str, dict[str, int]]:
    """A zero count for every applicable kind of every entity."""
    return {entity: dict.fromkeys(spec.kinds, 0) for entity, spec in ENTITY_DEFECTS.items()}


def defect_counts(rows: int, rate: float, kinds: int) -> list[int]:
    """Rows per kind: floor(rate * rows) split evenly, at least one each (when rate > 0), never above `rows`."""
    if rate <= 0 or rows == 0:
        return [0] * kinds
    total = int(np.floor(rate * rows))
    counts = [total // kinds + (1 if k < total % kinds else 0) for k in range(kinds)]
    counts = [max(1, c) for c in counts]
    # A tiny table cannot hold one defect of every kind; drop the last kinds' rows.
    k = kinds - 1
    while sum(counts) > rows:
        counts[k] -= 1
        k = k - 1 if k > 0 else kinds - 1
    return counts


def inject_defects(
    entity: str, table: pa.Table, rate: float, rng: np.random.Generator, timeline: Timeline,
) -> tuple[pa.Table, dict[str, int]]:
    """Return the table with defects injected (and replacement-text columns added) and the count per kind."""
    spec = ENTITY_DEFECTS[entity]
    table = table.combine_chunks()
    counts = defect_counts(table.num_rows, rate, len(spec.kinds))
    chosen = rng.permutation(table.num_rows)[: sum(counts)]
    groups = dict(zip(spec.kinds, np.split(chosen, np.cumsum(counts)[:-1]), strict=True))
    columns = {name: table.column(name).combine_chunks() for name in table.column_names}
    overrides = {name: np.full(table.num_rows, -1, dtype=np.int64) for name in spec.override_columns}

    for kind in spec.kinds:
        rows = np.sort(groups[kind])
        if kind in ADDED_ROW_KINDS or rows.size == 0:
            continue
        if kind == "bad_timestamp":
            overrides[OVERRIDE_PREFIX + spec.timestamp][rows] = rng.integers(0, len(BAD_TIMESTAMPS), rows.size)
        elif kind == "future_timestamp":
            seconds = _ints(columns[spec.timestamp])
            seconds[rows] = timeline.horizon + (rng.uniform(1.5, 10.0, rows.size) * SECONDS_PER_YEAR).astype(np.int64)
            columns[spec.timestamp] = timestamp_column(seconds)
        elif kind == "negative_amount":
            _make_negative(entity, columns, rows, rng)
        elif kind == "wrong_type":
            target = rng.integers(0, len(spec.text_targets), rows.size)
            for t, column in enumerate(spec.text_targets):
                picked = rows[target == t]
                overrides[OVERRIDE_PREFIX + column][picked] = (
                    len(BAD_TIMESTAMPS) + rng.integers(0, len(WRONG_TYPE_TEXT), picked.size))
        elif kind == "orphan_customer":
            ids = _ints(columns["customer_id"])
            ids[rows] += ORPHAN_CUSTOMER_ID_BASE  # unique per customer and beyond any real id
            columns["customer_id"] = pa.array(ids, pa.int64())
        elif kind == "orphan_order":
            ids = _ints(columns["order_id"])
            ids[rows] += ORPHAN_ORDER_ID_BASE  # keeps (order_id, line_number) unique
            columns["order_id"] = pa.array(ids, pa.int64())
        elif kind == "out_of_scale_score":
            _put_out_of_scale(columns, rows, rng)
        else:  # pragma: no cover - every kind above is handled
            raise AssertionError(kind)

    replacement_text = BAD_TIMESTAMPS + WRONG_TYPE_TEXT
    for name, codes in overrides.items():
        columns[name] = pa.DictionaryArray.from_arrays(
            pa.array(np.maximum(codes, 0).astype(np.int32), mask=codes < 0), pa.array(replacement_text, pa.string()))
    damaged = pa.table(columns)

    added = [_added_copies(entity, damaged, spec, kind, np.sort(groups[kind]), rng)
             for kind in spec.kinds if kind in ADDED_ROW_KINDS and groups[kind].size]
    result = _scatter(damaged, added, rng) if added else damaged
    return result, dict(zip(spec.kinds, counts, strict=True))


def _ints(array: pa.Array) -> np.ndarray:
    """A writable int64 copy of an integer or timestamp column."""
    if pa.types.is_timestamp(array.type):
        array = array.cast(pa.int64())
    return array.to_numpy(zero_copy_only=False).astype(np.int64, copy=True)


def _make_negative(entity: str, columns: dict[str, pa.Array], rows: np.ndarray, rng: np.random.Generator) -> None:
    if entity == "orders":
        discount = _ints(columns["order_discount"])
        discount[rows] = -(discount[rows] + rng.integers(100, 5000, rows.size))
        columns["order_discount"] = pa.array(discount, pa.int64())
        return
    price_rows = rows[rng.random(rows.size) < 0.5]
    quantity_rows = np.setdiff1d(rows, price_rows)
    price = _ints(columns["unit_price"])
    price[price_rows] = -price[price_rows]
    quantity = _ints(columns["quantity"])
    quantity[quantity_rows] = -quantity[quantity_rows]
    columns["unit_price"] = pa.array(price, pa.int64())
    columns["quantity"] = pa.array(quantity.astype(np.int32), pa.int32())


def _is_nps(columns: dict[str, pa.Array]) -> np.ndarray:
    return pc.equal(columns["survey_type"].cast(pa.string()), "nps").to_numpy(zero_copy_only=False)


def _put_out_of_scale(columns: dict[str, pa.Array], rows: np.ndarray, rng: np.random.Generator) -> None:
    score = _ints(columns["score"])
    nps = _is_nps(columns)[rows]
    score[rows] = np.where(nps, 11, np.where(rng.random(rows.size) < 0.5, 0, 6))
    columns["score"] = pa.array(score.astype(np.int32), pa.int32())


def _added_copies(entity: str, table: pa.Table, spec: EntityDefects, kind: str, sources: np.ndarray,
                  rng: np.random.Generator) -> pa.Table:
    """Copies of the clean rows `sources`, changed as `kind` says."""
    copies = table.take(pa.array(sources)).combine_chunks()
    columns = {name: copies.column(name).combine_chunks() for name in copies.column_names}
    if kind == "missing_key":
        columns[spec.key] = pa.nulls(sources.size, pa.int64())
    elif kind == "duplicate_id":
        _change_content(entity, columns, rng)
    return pa.table(columns)


def _change_content(entity: str, columns: dict[str, pa.Array], rng: np.random.Generator) -> None:
    """Change one non-key value of each row so the copy conflicts with its original."""
    if entity == "customers":
        # Another e-mail address for the same customer_id and updated_at.
        tag = _ints(pc.fill_null(columns["email_tag"], 0))
        columns["email_tag"] = pa.array(tag + 1000, pa.int32())
    elif entity in ("orders", "interactions"):
        columns["status"] = _other_status(columns["status"], rng)
    elif entity == "order_items":
        quantity = _ints(columns["quantity"])
        columns["quantity"] = pa.array((quantity + 1).astype(np.int32), pa.int32())
    elif entity == "survey_responses":
        score = _ints(columns["score"])
        nps = _is_nps(columns)
        low, span = np.where(nps, 0, 1), np.where(nps, 11, 5)
        score = low + (score - low + rng.integers(1, span)) % span  # another score on the same scale
        columns["score"] = pa.array(score.astype(np.int32), pa.int32())


def _other_status(status: pa.Array, rng: np.random.Generator) -> pa.DictionaryArray:
    """Another status than each row's, never `pending` (which only recent orders may have)."""
    if not pa.types.is_dictionary(status.type):
        status = status.dictionary_encode()
    values = status.dictionary.to_pylist()
    allowed = np.array([i for i, value in enumerate(values) if value != vocab.PENDING_STATUS])
    slot_of = np.full(len(values), -1)
    slot_of[allowed] = np.arange(allowed.size)
    slot = slot_of[status.indices.to_numpy(zero_copy_only=False)]
    # A shift by 1..n-1 slots never lands on the same status.
    shifted = np.where(slot >= 0, (slot + rng.integers(1, allowed.size, slot.size)) % allowed.size,
                       rng.integers(0, allowed.size, slot.size))
    return pa.DictionaryArray.from_arrays(pa.array(allowed[shifted].astype(np.int32)), status.dictionary)


def _scatter(table: pa.Table, added: list[pa.Table], rng: np.random.Generator) -> pa.Table:
    """Insert the added rows at random positions among the table's rows (original order kept)."""
    extra = pa.concat_tables(added)
    position = np.concatenate([np.arange(table.num_rows, dtype=float),
                               rng.uniform(-0.5, table.num_rows - 0.5, extra.num_rows)])
    combined = pa.concat_tables([table, extra.select(table.column_names).cast(table.schema)])
    return combined.take(pa.array(np.argsort(position, kind="stable"))).combine_chunks()
