"""The demo data generator: simulated CRM, order and survey exports in the landing directory.

`generate_demo_data` simulates customers in batches (see `behaviour`),
optionally damages a share of the rows (see `defects`), stages every batch in
a temporary DuckDB database and finally writes one folder per entity:

    landing_dir/customers/customers_0001.csv
    landing_dir/interactions/interactions_0001.jsonl
    landing_dir/orders/orders_0001.parquet
    landing_dir/order_items/order_items_0001.parquet
    landing_dir/survey_responses/survey_responses_0001.csv
    landing_dir/_demo_report.json        (ignored by the loader: it starts with `_`)

Same arguments, same bytes: every random draw comes from generators seeded
with the seed (one stream per batch, another for defects) and DuckDB writes
single-threaded.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from ingestion.demo.behaviour import BehaviourParameters, FirstIds, Timeline, build_catalog, simulate_batch
from ingestion.demo.defects import ORPHAN_CUSTOMER_ID_BASE, inject_defects, no_defects
from ingestion.demo.writers import CSV_ENCODINGS, StagingArea, write_entity

ENTITY_ORDER: tuple[str, ...] = ("customers", "interactions", "orders", "order_items", "survey_responses")
# The "mixed" layout exercises every reader of the loader.
MIXED_FORMATS: dict[str, str] = {
    "customers": "csv",
    "interactions": "jsonl",
    "orders": "parquet",
    "order_items": "parquet",
    "survey_responses": "csv",
}
FILE_FORMATS = ("mixed", "csv", "parquet", "jsonl")
BATCH_CUSTOMERS = 200_000
MAX_DEFECT_RATE = 0.2
# Orphan customer ids start at C90000000; real ids must stay below them.
MAX_CUSTOMERS = ORPHAN_CUSTOMER_ID_BASE // 2
REPORT_FILE = "_demo_report.json"

# Separate random streams, so that e.g. the defects never change the clean rows they start from.
_CATALOG_STREAM, _BATCH_STREAM, _DEFECT_STREAM = 0, 1, 2


@dataclass(frozen=True)
class DemoReport:
    """What a demo generation wrote.

    `defects` maps entity -> defect kind -> the exact number of rows carrying
    that defect (zeros for a clean run); `rows` counts every written row,
    including the older versions of customers and rows added as defects.
    """

    landing_dir: Path
    rows: dict[str, int]
    files: list[Path]
    seconds: float
    defects: dict[str, dict[str, int]]
    parameters: dict[str, object] = field(default_factory=dict)
    # {path relative to the landing dir: bytes} and {path: SHA-256}: what tells the demo's own files from
    # anything added later, in the landing directory (sizes) and in the warehouse's load manifest (hashes).
    file_sizes: dict[str, int] = field(default_factory=dict)
    file_hashes: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        """The report as JSON (paths as strings), as written to `_demo_report.json`."""
        content = asdict(self)
        content["landing_dir"] = str(self.landing_dir)
        content["files"] = [str(p) for p in self.files]
        return json.dumps(content, indent=2, ensure_ascii=False, default=str)


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def is_demo_data(landing_dir: Path, data_files: list[Path], loaded: list[tuple[str, str, str | None]] = ()) -> bool:
    """Whether the data is the generated demo data and nothing else.

    Every one of `data_files` must be a file the generator wrote there,
    unchanged (same size), and every load in the warehouse (`loaded`: source,
    file, content hash from its manifest) must be one of them, same content:
    only then may a run use the published demo PII key. One file of any other
    origin, a demo file edited since, a database source, or real data loaded
    before (whose rows the warehouse keeps), and it is real data.
    """
    try:
        report = json.loads((landing_dir / REPORT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    sizes, hashes = report.get("file_sizes") or {}, report.get("file_hashes") or {}
    landing_is_demo = bool(data_files) and all(
        sizes.get(path.relative_to(landing_dir).as_posix()) == path.stat().st_size for path in data_files)
    loads_are_demo = all(source == "files" and hashes.get(source_file) == content_hash
                         for source, source_file, content_hash in loaded)
    return landing_is_demo and loads_are_demo


def entity_formats(file_format: str, defect_rate: float) -> dict[str, str]:
    """The file format of each entity for a requested layout (CSV for all when defects are injected)."""
    if file_format not in FILE_FORMATS:
        raise ValueError(f"file_format must be one of {FILE_FORMATS}, not {file_format!r}")
    if defect_rate > 0:
        return dict.fromkeys(ENTITY_ORDER, "csv")
    if file_format == "mixed":
        return dict(MIXED_FORMATS)
    return dict.fromkeys(ENTITY_ORDER, file_format)


def batch_sizes(customers: int, batch_customers: int = BATCH_CUSTOMERS) -> list[int]:
    """Split the customers into batches of at most `batch_customers`."""
    full, rest = divmod(customers, batch_customers)
    return [batch_customers] * full + ([rest] if rest else [])


def generate_demo_data(
    landing_dir: Path,
    customers: int = 5000,
    seed: int = 42,
    end_date: date = date(2025, 12, 31),
    defect_rate: float = 0.0,
    file_format: str = "mixed",
    csv_encoding: str = "utf-8",
    files_per_entity: int = 1,
    progress: Callable[[str], None] | None = None,
) -> DemoReport:
    """Write deterministic demo CRM, order and survey files into `landing_dir`; return what was written.

    About three years of history end at `end_date` (UTC); ~10 orders per
    customer (1,000,000 customers give ~10 million orders and ~18 million
    order lines). The same arguments always give byte-identical data files.

    - `file_format`: "mixed" (customers and surveys CSV, interactions JSON
      Lines, orders and order lines Parquet), or "csv", "parquet", "jsonl" for all.
    - `csv_encoding`: "utf-8" or "gb18030" (CSV files only).
    - `defect_rate` in [0, 0.2]: share of each entity's rows made defective
      (see `ingestion.demo.defects`). Defects need text in typed columns, so
      with a rate above 0 every entity is written as CSV whatever `file_format` says.
      Defects are drawn per batch of 200,000 customers (exactly floor(rate * rows)
      for runs of up to 200,000 customers).
    - `files_per_entity`: each entity's rows split by row range over that many
      files, `<entity>_0001.<ext>`, `<entity>_0002.<ext>`, ...; data files an
      earlier run left with these names are removed first.
    - `progress`: called with a short message per batch and per file.
    """
    started = time.perf_counter()
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers must be between 1 and {MAX_CUSTOMERS:,}, not {customers}")
    if not 0 <= defect_rate <= MAX_DEFECT_RATE:
        raise ValueError(f"defect_rate must be within [0, {MAX_DEFECT_RATE}], not {defect_rate}")
    if csv_encoding not in CSV_ENCODINGS:
        raise ValueError(f"csv_encoding must be one of {CSV_ENCODINGS}, not {csv_encoding!r}")
    if files_per_entity < 1:
        raise ValueError(f"files_per_entity must be at least 1, not {files_per_entity}")
    formats = entity_formats(file_format, defect_rate)
    say = progress or (lambda _message: None)
    landing_dir = Path(landing_dir)
    landing_dir.mkdir(parents=True, exist_ok=True)

    params = BehaviourParameters()
    timeline = Timeline.ending(end_date, params.history_years)
    catalog = build_catalog(np.random.default_rng([seed, _CATALOG_STREAM]))
    defects = no_defects()
    sizes = batch_sizes(customers)
    files: list = []
    rows: dict[str, int] = {}
    # The staging database lives in the landing dir (same disk as the output) under a private name.
    with tempfile.TemporaryDirectory(prefix="_demo_staging_", dir=landing_dir) as scratch, \
            StagingArea(Path(scratch)) as staging:
        first_ids = FirstIds(customer=1, order=1, interaction=1, response=1)
        for number, size in enumerate(sizes):
            batch = simulate_batch(np.random.default_rng([seed, _BATCH_STREAM, number]), size, first_ids, timeline,
                                   catalog, params)
            tables = batch.tables()
            say(f"batch {number + 1}/{len(sizes)}: {size:,} customers, {batch.orders.num_rows:,} orders, "
                f"{batch.order_items.num_rows:,} order lines")
            first_ids = FirstIds(
                customer=first_ids.customer + size,
                order=first_ids.order + batch.orders.num_rows,
                interaction=first_ids.interaction + batch.interactions.num_rows,
                response=first_ids.response + batch.survey_responses.num_rows,
            )
            defect_rng = np.random.default_rng([seed, _DEFECT_STREAM, number])
            for entity in ENTITY_ORDER:
                table = tables[entity]
                if defect_rate > 0:
                    table, counts = inject_defects(entity, table, defect_rate, defect_rng, timeline)
                    for kind, count in counts.items():
                        defects[entity][kind] += count
                staging.append(entity, table)
            del batch, tables, table
        for entity in ENTITY_ORDER:
            rows[entity] = staging.row_count(entity)
            files.extend(write_entity(staging, entity, landing_dir, formats[entity], csv_encoding,
                                      files_per_entity, say))

    report = DemoReport(
        landing_dir=landing_dir,
        rows=rows,
        files=files,
        seconds=round(time.perf_counter() - started, 3),
        defects=defects,
        parameters={
            "customers": customers, "seed": seed, "end_date": end_date.isoformat(), "defect_rate": defect_rate,
            "file_format": file_format, "formats": formats, "csv_encoding": csv_encoding,
            "files_per_entity": files_per_entity,
        },
        file_sizes={path.relative_to(landing_dir).as_posix(): path.stat().st_size for path in files},
        file_hashes={path.relative_to(landing_dir).as_posix(): sha256_of(path) for path in files},
    )
    (landing_dir / REPORT_FILE).write_text(report.to_json() + "\n", encoding="utf-8")
    say(f"done in {report.seconds:.1f} s: " + ", ".join(f"{e} {n:,}" for e, n in rows.items()))
    return report
