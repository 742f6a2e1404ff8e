#!/usr/bin/env python
"""Benchmark the whole pipeline: a full `retention run`, then a day of new data and the daily run.

For one size (default 1,000,000 customers, about 10 million orders):

1. generate the demo data, or reuse it (`--regenerate` starts over); the
   warehouse, serving files and any earlier benchmark day are removed, so the
   full run loads everything from nothing;
2. time `retention run` (full run, first load) in a child process;
3. write one day of new data (`ingestion.demo.next_day`: `--share` of the
   orders as new orders with their lines, a few customer versions, surveys);
4. time `retention run` again (the daily run);
5. time the pandas reference (tests/reference/pandas_marts.py) computing the
   same marts from the same warehouse, as scripts/benchmark_marts.py does.

Each run's time is broken down by layer from its Dagster step statistics
(the run is stored in a Dagster home inside the work dir); "outside steps"
is process start, definitions, the writer lock and the run report. Peak
memory is the largest sum of resident memory over the run's process tree
(the `retention` process and its dbt children), sampled every 0.2 s.

Usage:
    .venv/bin/python scripts/benchmark_pipeline.py [--customers 1000000] [--work-dir DIR]
        [--regenerate] [--share 0.001] [--skip-reference]

Targets (at 1,000,000 customers): daily run under 30 s and at most 15 % of
the full run; full run under 2 minutes with peak memory under 4 GiB. At
10,000,000 customers the full run must complete within 24 GiB and the daily
run stay under 15 % of it. Printed as PASS/FAIL; nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_marts import PROJECT_ROOT, VENV_BIN, measure_pandas, pipeline_env, prepare_data, say, tail  # noqa: E402

BENCHMARK_PII_KEY = "benchmark-pii-key-0123456789abcdef"
TARGET_CUSTOMERS = 1_000_000
LARGE_CUSTOMERS = 10_000_000
TARGET_DAILY_SECONDS = 30.0
TARGET_DAILY_SHARE = 0.15
TARGET_FULL_SECONDS = 120.0
TARGET_FULL_PEAK_GIB = 4.0
LARGE_PEAK_GIB = 24.0

# Layers in pipeline order; a step belongs to the first layer whose test it passes.
LAYERS: tuple[tuple[str, object], ...] = (
    ("raw loading", lambda key: key.startswith("raw__") and not key.endswith("_raw_rules")),
    ("raw rule checks (GX)", lambda key: key.endswith("_raw_rules")),
    ("quarantine", lambda key: key.startswith("quarantine__")),
    ("dbt staging", lambda key: key == "dbt_staging"),
    ("staging checks", lambda key: key.endswith(("_staging_rules", "_reconciles_with_raw"))),
    ("dbt marts + mart checks", lambda key: key == "dbt_marts" or key.endswith("_mart_rules")),
    ("predictions, customer 360", lambda key: key in ("marts__customer_predictions", "dbt_customer_360")),
    ("publishing, report", lambda key: key.startswith(("serving__", "report__"))),
)
OTHER_LAYER = "other steps"
OUTSIDE_STEPS = "outside steps (start, lock, report)"


def layer_of(step_key: str) -> str:
    """The layer a Dagster step key belongs to (see LAYERS)."""
    for name, belongs in LAYERS:
        if belongs(step_key):
            return name
    return OTHER_LAYER


def peak_by_layer(step_windows: dict[str, tuple[float, float]], samples: list[tuple[float, int]]) -> dict[str, int]:
    """The largest memory sample taken while a step of each layer ran ({layer: bytes})."""
    peaks: dict[str, int] = defaultdict(int)
    for key, (start, end) in step_windows.items():
        inside = [size for at, size in samples if start <= at <= end]
        if inside:
            peaks[layer_of(key)] = max(peaks[layer_of(key)], max(inside))
    return dict(peaks)


def seconds_by_layer(step_seconds: dict[str, float], wall: float) -> dict[str, float]:
    """Step times summed per layer, in pipeline order, with the wall time no step accounts for."""
    layers: dict[str, float] = defaultdict(float)
    for key, seconds in step_seconds.items():
        layers[layer_of(key)] += seconds
    ordered = {name: layers.get(name, 0.0) for name, _ in LAYERS}
    if OTHER_LAYER in layers:
        ordered[OTHER_LAYER] = layers[OTHER_LAYER]
    ordered[OUTSIDE_STEPS] = max(0.0, wall - sum(step_seconds.values()))
    return ordered


class TreeMemorySampler:
    """Samples the summed resident memory of a process and all its descendants (Linux /proc)."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval, self.peak_bytes = pid, interval, 0
        self.samples: list[tuple[float, int]] = []  # (epoch seconds, bytes)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            sample = tree_rss_bytes(self.pid)
            self.samples.append((time.time(), sample))
            self.peak_bytes = max(self.peak_bytes, sample)
            self._stop.wait(self.interval)


def tree_rss_bytes(root: int) -> int:
    """Resident bytes of `root` and every descendant, from /proc (0 when it is gone)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            statm = (entry / "statm").read_text().split()
        except OSError:
            continue
        # Field 4 of stat is the parent pid; the name (field 2) may hold spaces, so split after its ')'.
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        rss[int(entry.name)] = int(statm[1]) * page
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in tree)


@dataclass
class RunTiming:
    """One timed `retention run`."""

    name: str
    wall: float
    peak_bytes: int
    returncode: int
    log_path: Path
    layers: dict[str, float] = field(default_factory=dict)
    peaks: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the run exited with status 0."""
        return self.returncode == 0


def step_windows_of(run_id: str, dagster_home: Path) -> dict[str, tuple[float, float]]:
    """{step key: (start, end) in epoch seconds} of a stored Dagster run."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        return {stat.step_key: (stat.start_time or 0, stat.end_time or stat.start_time or 0)
                for stat in instance.get_run_step_stats(run_id)}


def timed_run(name: str, data_dir: Path, env: dict[str, str]) -> RunTiming:
    """Run `retention run --quiet` to its end; its wall time, peak tree memory and per-layer times."""
    log_path = data_dir / f"benchmark_{name}.log"
    say(f"{name} run: retention run; log {log_path}")
    with log_path.open("w", encoding="utf-8") as log:
        started = time.perf_counter()
        process = subprocess.Popen([str(VENV_BIN / "retention"), "run", "--quiet"], cwd=PROJECT_ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        with TreeMemorySampler(process.pid) as sampler:
            returncode = process.wait()
        wall = time.perf_counter() - started
    timing = RunTiming(name, wall, sampler.peak_bytes, returncode, log_path)
    if not timing.ok:
        say(f"{name} run FAILED (exit {returncode}):\n{tail(log_path)}")
        return timing
    report = json.loads((data_dir / "runs" / "latest.json").read_text(encoding="utf-8"))
    windows = step_windows_of(report["run_id"], Path(env["DAGSTER_HOME"]))
    timing.layers = seconds_by_layer({key: end - start for key, (start, end) in windows.items()}, wall)
    timing.peaks = peak_by_layer(windows, sampler.samples)
    say(f"{name} run: {wall:.1f} s, peak {sampler.peak_bytes / 2**30:.2f} GiB")
    return timing


def start_over(data_dir: Path) -> None:
    """Remove everything a run wrote (warehouse, serving, report, runs, Dagster home) and any benchmark day."""
    from ingestion.demo.next_day import DAY_PREFIX

    for path in data_dir.glob("warehouse.duckdb*"):
        # DuckDB's spill directory (warehouse.duckdb.tmp) is a folder.
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    for folder in ("serving", "report", "runs", "data_docs", ".dagster"):
        shutil.rmtree(data_dir / folder, ignore_errors=True)
    for path in (data_dir / "landing").glob(f"*/{DAY_PREFIX}*"):
        path.unlink()


def verdict(holds: bool) -> str:
    """PASS/FAIL text of one target."""
    return "PASS" if holds else "FAIL"


def print_report(customers: int, orders: int, full: RunTiming, daily: RunTiming, day_rows: dict[str, int],
                 pandas_seconds: float | None) -> None:
    """The per-layer table of both runs, the ratio, the pandas reference and the targets."""
    print()
    print(f"{customers:,} customers, {orders:,} orders; the day added " +
          ", ".join(f"{count:,} {entity}" for entity, count in day_rows.items()))
    print(f"{'layer':<38} {'full run s':>11} {'daily run s':>12}   {'peak GiB full':>13} {'daily':>6}")
    for layer in full.layers or daily.layers:
        peaks = "".join(f" {run.peaks[layer] / 2**30:>{width}.2f}" if layer in run.peaks else " " * (width + 1)
                        for run, width in ((full, 15), (daily, 6)))
        print(f"{layer:<38} {full.layers.get(layer, 0.0):>11.1f} {daily.layers.get(layer, 0.0):>12.1f}{peaks}")
    ratio = daily.wall / full.wall if full.wall else float("nan")
    print(f"{'wall':<38} {full.wall:>11.1f} {daily.wall:>12.1f}   (daily = {ratio:.0%} of full)")
    print(f"{'peak memory GiB (process tree)':<38} {full.peak_bytes / 2**30:>11.2f} {daily.peak_bytes / 2**30:>12.2f}")
    if pandas_seconds is not None:
        print(f"{'pandas reference, same marts':<38} {pandas_seconds:>11.1f}")
    print()
    if customers == TARGET_CUSTOMERS:
        checks = [
            (f"daily run < {TARGET_DAILY_SECONDS:.0f} s", daily.ok and daily.wall < TARGET_DAILY_SECONDS,
             f"{daily.wall:.1f} s"),
            (f"daily run <= {TARGET_DAILY_SHARE:.0%} of the full run", daily.ok and ratio <= TARGET_DAILY_SHARE,
             f"{ratio:.0%}"),
            (f"full run < {TARGET_FULL_SECONDS:.0f} s", full.ok and full.wall < TARGET_FULL_SECONDS,
             f"{full.wall:.1f} s"),
            (f"full run peak < {TARGET_FULL_PEAK_GIB:.0f} GiB",
             full.ok and full.peak_bytes < TARGET_FULL_PEAK_GIB * 2**30, f"{full.peak_bytes / 2**30:.2f} GiB"),
        ]
    elif customers >= LARGE_CUSTOMERS:
        checks = [
            (f"full run completes within {LARGE_PEAK_GIB:.0f} GiB",
             full.ok and full.peak_bytes < LARGE_PEAK_GIB * 2**30, f"{full.peak_bytes / 2**30:.2f} GiB"),
            (f"daily run <= {TARGET_DAILY_SHARE:.0%} of the full run", daily.ok and ratio <= TARGET_DAILY_SHARE,
             f"{ratio:.0%}"),
        ]
    else:
        print(f"targets: checked at {TARGET_CUSTOMERS:,} and {LARGE_CUSTOMERS:,} customers")
        return
    print(f"targets at {customers:,} customers:")
    for name, holds, measured in checks:
        print(f"  {name:<44} {verdict(holds)}  ({measured})")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=TARGET_CUSTOMERS, help="Demo customers (default %(default)s).")
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "retention-benchmark",
                        help="The data lives in <work-dir>/<customers>/ (default: %(default)s), shared with "
                             "scripts/benchmark_marts.py.")
    parser.add_argument("--regenerate", action="store_true", help="Generate the demo data again even if present.")
    parser.add_argument("--share", type=float, default=0.001,
                        help="New orders of the day as a share of the existing orders (default %(default)s).")
    parser.add_argument("--skip-reference", action="store_true", help="Do not time the pandas reference.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Full run, a day of new data, daily run, pandas reference; then the report."""
    args = parse_args(argv)
    sys.path.insert(0, str(PROJECT_ROOT))
    import duckdb

    from ingestion.demo.next_day import write_next_day

    data_dir = (args.work_dir / str(args.customers)).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    prepare_data(args.customers, data_dir, args.regenerate)
    start_over(data_dir)
    env = pipeline_env(data_dir)
    # The day's files are not the generator's own: the runs need a key of their own (the demo key is refused).
    env["RETENTION_PII_KEY"] = BENCHMARK_PII_KEY
    env["DBT_ENV_SECRET_RETENTION_PII_KEY"] = BENCHMARK_PII_KEY

    full = timed_run("full", data_dir, env)
    if not full.ok:
        raise SystemExit(1)
    day = write_next_day(data_dir / "landing", share=args.share)
    say(f"day {day.day}: " + ", ".join(f"{count:,} {entity}" for entity, count in day.rows.items()))
    daily = timed_run("daily", data_dir, env)
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        orders = con.execute("SELECT count(*) FROM staging.stg_orders__orders").fetchone()[0]
    pandas_seconds = None
    if not args.skip_reference:
        run_dir = data_dir / "benchmark"
        run_dir.mkdir(exist_ok=True)
        reference = measure_pandas(args.customers, data_dir, run_dir)
        pandas_seconds = reference.seconds if reference.ok else None
    print_report(args.customers, orders, full, daily, day.rows, pandas_seconds)
    if not daily.ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
