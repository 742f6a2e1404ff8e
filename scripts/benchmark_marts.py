#!/usr/bin/env python
"""Benchmark the dbt marts against the plain pandas reference (tests/reference/pandas_marts.py).

For each size: generate the demo data (or reuse it), load it and build the
staging layer with `retention run` (which also builds the marts once, a
warm-up), then time in separate processes, so that each peak RSS belongs to
one implementation:

  (a) `dbt build` of the mart layers the reference also computes (DBT_MART_SELECTION minus
      DBT_MART_EXCLUSION), and
  (b) `compute_marts` of the pandas reference, on the same warehouse.

Usage:
    .venv/bin/python scripts/benchmark_marts.py [--customers 100000 1000000] [--work-dir DIR]
        [--regenerate] [--skip-run]

It also prints where the dbt time goes: the slowest models of the timed build
(from its run_results.json) and dbt's fixed cost, the wall time of a build of
one 1-row model, which every dbt invocation pays whatever the data.

Targets (checked at 1,000,000 customers): the dbt build takes < 60 s, peaks
below 4 GiB and is at least 3x faster than pandas.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

# What the timed `dbt build` selects (split on whitespace into --select / --exclude arguments):
# the marts the pandas reference computes too. dim_customers and churn_risk (and the latest-NPS
# model only they read) are not in the reference, so they are not timed.
DBT_MART_SELECTION = "path:models/intermediate path:models/marts"
DBT_MART_EXCLUSION = "dim_customers churn_risk int_customer_latest_nps"

DEFAULT_CUSTOMERS = (100_000, 1_000_000)
TARGET_CUSTOMERS = 1_000_000
TARGET_DBT_SECONDS = 60.0
TARGET_DBT_PEAK_MIB = 4 * 1024.0
TARGET_SPEEDUP = 3.0

DBT = "dbt"
PANDAS = "pandas"


@dataclass(frozen=True)
class Measurement:
    """One timed child process."""

    implementation: str
    seconds: float
    peak_rss_mib: float
    returncode: int
    log_path: Path

    @property
    def ok(self) -> bool:
        """Whether the process exited with status 0."""
        return self.returncode == 0


@dataclass(frozen=True)
class NodeTiming:
    """Execution time of one dbt node (or of all data tests together) in the timed build."""

    name: str
    seconds: float


@dataclass(frozen=True)
class QualityTiming:
    """One Great Expectations suite run on one table of the warehouse."""

    relation: str
    rows: int
    expectations: int
    seconds: float


@dataclass(frozen=True)
class SizeResult:
    """Both implementations measured on one generated warehouse."""

    customers: int
    orders: int
    dbt: Measurement
    pandas: Measurement
    quality: tuple[QualityTiming, ...] = ()
    model_fit_seconds: float | None = None
    dbt_nodes: tuple[NodeTiming, ...] = ()
    dbt_fixed_seconds: float | None = None

    @property
    def speedup(self) -> float | None:
        """pandas seconds / dbt seconds (None when either failed)."""
        if not (self.dbt.ok and self.pandas.ok) or self.dbt.seconds == 0:
            return None
        return self.pandas.seconds / self.dbt.seconds


def say(message: str) -> None:
    """Print a timestamped progress line at once (output may be piped)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def tail(path: Path, lines: int = 25) -> str:
    """The last lines of a log file, for failure messages."""
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:])


def measure(implementation: str, command: list[str], cwd: Path, env: dict[str, str], log_path: Path) -> Measurement:
    """Run `command` to completion; return its wall time and peak RSS.

    os.wait4 gives the resource usage of exactly this child (and whatever it
    waited for), unlike RUSAGE_CHILDREN, which keeps the maximum over every
    child so far and would credit dbt's peak to pandas or vice versa.
    """
    with log_path.open("w", encoding="utf-8") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # already reaped: tell Popen
    return Measurement(implementation, seconds, usage.ru_maxrss / 1024, process.returncode, log_path)


def pipeline_env(data_dir: Path) -> dict[str, str]:
    """Environment for `retention` and dbt pointing every path into `data_dir`."""
    from ingestion.pii import DBT_SECRET_VARIABLE, DEMO_KEY

    env = dict(os.environ)
    env.update(
        RETENTION_DATA_DIR=str(data_dir),
        RETENTION_WAREHOUSE=str(data_dir / "warehouse.duckdb"),
        RETENTION_LANDING_DIR=str(data_dir / "landing"),
        # A Dagster instance of its own: benchmark runs stay out of the project's run history.
        DAGSTER_HOME=str(data_dir / ".dagster"),
    )
    # The generated data runs with the published demo key; dbt run directly needs it spelled out.
    env[DBT_SECRET_VARIABLE] = os.environ.get("RETENTION_PII_KEY") or DEMO_KEY
    # The default as-of date (latest completed order) is what the pandas reference uses too.
    env.pop("RETENTION_AS_OF_DATE", None)
    return env


def prepare_data(customers: int, data_dir: Path, regenerate: bool) -> None:
    """Generate the demo landing files unless they are there already (or `regenerate`)."""
    from ingestion.demo import generate_demo_data

    landing = data_dir / "landing"
    if regenerate:
        shutil.rmtree(landing, ignore_errors=True)
        # A warehouse loaded from the old files would mix two data sets.
        for path in data_dir.glob("warehouse.duckdb*"):
            path.unlink()
    if any(landing.glob("*/*")):
        say(f"{customers:,} customers: reusing the landing files in {landing} (--regenerate starts over)")
        return
    say(f"{customers:,} customers: generating demo data into {landing}")
    report = generate_demo_data(landing, customers=customers, seed=42, progress=lambda m: say(f"  {m}"))
    say(f"{customers:,} customers: generated in {report.seconds:.1f} s")


def load_warehouse(customers: int, data_dir: Path) -> None:
    """Load the landing files and build everything once through `retention run` (warms up too)."""
    log_path = data_dir / "retention_run.log"
    say(f"{customers:,} customers: retention run (ingestion, staging, first mart build); log {log_path}")
    started = time.perf_counter()
    with log_path.open("w", encoding="utf-8") as log:
        result = subprocess.run(
            [str(VENV_BIN / "retention"), "run", "--quiet"],
            cwd=PROJECT_ROOT,
            env=pipeline_env(data_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if result.returncode != 0:
        raise SystemExit(f"retention run failed ({result.returncode}):\n{tail(log_path)}")
    say(f"{customers:,} customers: retention run done in {time.perf_counter() - started:.1f} s")


def count_orders(warehouse: Path) -> int:
    """Rows of staging.stg_orders__orders (the connection is closed before dbt needs the file)."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select count(*) from staging.stg_orders__orders").fetchall()[0][0]


def dbt_command(subcommand: str, run_dir: Path) -> list[str]:
    """A dbt invocation whose target and log folders live in the benchmark's run dir.

    Keeping them out of dbt_project/target means the benchmark never races
    with someone else's dbt on the same project.
    """
    return [
        str(VENV_BIN / "dbt"),
        subcommand,
        "--profiles-dir",
        ".",
        "--target-path",
        str(run_dir / "dbt_target"),
        "--log-path",
        str(run_dir / "dbt_logs"),
    ]


def measure_dbt(customers: int, data_dir: Path, run_dir: Path) -> Measurement:
    """Time `dbt build` of the mart layers on the warehouse of `data_dir`."""
    env = pipeline_env(data_dir)
    # Untimed parse first, so the timed build starts from a parsed project as a deployed one would.
    parse = subprocess.run(dbt_command("parse", run_dir), cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True)
    if parse.returncode != 0:
        say(f"  dbt parse failed ({parse.returncode}); the build below will parse itself")
    say(f"{customers:,} customers: timing dbt build --select {DBT_MART_SELECTION} --exclude {DBT_MART_EXCLUSION}")
    command = dbt_command("build", run_dir) + ["--select", *DBT_MART_SELECTION.split(),
                                               "--exclude", *DBT_MART_EXCLUSION.split()]
    result = measure(DBT, command, DBT_PROJECT_DIR, env, run_dir / "dbt_build.log")
    report_measurement(customers, result)
    return result


def measure_pandas(customers: int, data_dir: Path, run_dir: Path) -> Measurement:
    """Time the pandas reference (this script in --reference-only mode) on the same warehouse."""
    say(f"{customers:,} customers: timing the pandas reference compute_marts")
    command = [sys.executable, str(Path(__file__).resolve()), "--reference-only", str(data_dir / "warehouse.duckdb")]
    result = measure(PANDAS, command, PROJECT_ROOT, pipeline_env(data_dir), run_dir / "pandas_reference.log")
    report_measurement(customers, result)
    return result


def report_measurement(customers: int, result: Measurement) -> None:
    """One progress line per measurement, with the log tail when it failed."""
    if result.ok:
        say(f"{customers:,} customers: {result.implementation} {result.seconds:.1f} s, "
            f"peak {result.peak_rss_mib:,.0f} MiB")
    else:
        say(f"{customers:,} customers: {result.implementation} FAILED (exit {result.returncode}); log {result.log_path}")
        print(tail(result.log_path), flush=True)


def slowest_dbt_nodes(run_results: dict, models: int = 6) -> tuple[NodeTiming, ...]:
    """The `models` slowest models of a dbt run_results.json, then all data tests summed.

    Execution times of nodes that ran side by side (dbt threads) overlap, so
    they add up to more than the wall time; they show where the work is.
    """
    model_timings, test_seconds, tests = [], 0.0, 0
    for result in run_results.get("results", []):
        resource_type, _, rest = result["unique_id"].partition(".")
        seconds = float(result.get("execution_time") or 0.0)
        if resource_type == "model":
            model_timings.append(NodeTiming(rest.rsplit(".", 1)[-1], seconds))
        elif resource_type == "test":
            tests += 1
            test_seconds += seconds
    model_timings.sort(key=lambda timing: timing.seconds, reverse=True)
    return (*model_timings[:models], NodeTiming(f"{tests} data tests", test_seconds))


def run_results_path(run_dir: Path) -> Path:
    """Where dbt writes run_results.json for the benchmark's invocations (see dbt_command)."""
    return run_dir / "dbt_target" / "run_results.json"


def read_slowest_dbt_nodes(run_dir: Path) -> tuple[NodeTiming, ...]:
    """slowest_dbt_nodes of the last dbt invocation's run_results.json (empty when dbt wrote none)."""
    path = run_results_path(run_dir)
    if not path.exists():
        return ()
    return slowest_dbt_nodes(json.loads(path.read_text(encoding="utf-8")))


def measure_dbt_fixed_cost(customers: int, data_dir: Path, run_dir: Path) -> float | None:
    """Wall time of a `dbt build` of the one-row model int_as_of_date: dbt's own start-up cost.

    Importing dbt, loading the manifest and opening the warehouse take this
    long whatever the data; it sets a floor under every dbt invocation.
    """
    command = dbt_command("build", run_dir) + ["--select", "int_as_of_date"]
    result = measure("dbt fixed cost", command, DBT_PROJECT_DIR, pipeline_env(data_dir), run_dir / "dbt_fixed_cost.log")
    if not result.ok:
        say(f"{customers:,} customers: the one-model dbt build failed (exit {result.returncode}); log {result.log_path}")
        return None
    say(f"{customers:,} customers: dbt's fixed cost (one 1-row model and its test) {result.seconds:.1f} s")
    return result.seconds


def benchmark_size(customers: int, work_dir: Path, regenerate: bool, skip_run: bool) -> SizeResult:
    """Prepare one size's warehouse and measure both implementations on it."""
    data_dir = (work_dir / str(customers)).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    warehouse = data_dir / "warehouse.duckdb"
    prepare_data(customers, data_dir, regenerate)
    if skip_run and warehouse.exists():
        say(f"{customers:,} customers: --skip-run, using {warehouse} as it is")
    else:
        load_warehouse(customers, data_dir)
    orders = count_orders(warehouse)
    run_dir = data_dir / "benchmark"  # dbt target and logs; kept between runs for partial parsing
    run_dir.mkdir(exist_ok=True)
    dbt_result = measure_dbt(customers, data_dir, run_dir)
    # Read and keep the timed build's run_results.json now: the next dbt call overwrites it.
    dbt_nodes = read_slowest_dbt_nodes(run_dir)
    if run_results_path(run_dir).exists():
        shutil.copyfile(run_results_path(run_dir), run_dir / "dbt_build_run_results.json")
    dbt_fixed_seconds = measure_dbt_fixed_cost(customers, data_dir, run_dir)
    pandas_result = measure_pandas(customers, data_dir, run_dir)
    return SizeResult(customers, orders, dbt_result, pandas_result, measure_quality(customers, warehouse),
                      measure_model_fit(customers, warehouse), dbt_nodes, dbt_fixed_seconds)


def measure_model_fit(customers: int, warehouse: Path) -> float:
    """Time the predictive models as the asset fits them: summaries from DuckDB, BG/NBD and Gamma-Gamma."""
    import duckdb

    from orchestration.assets.predictive import fit_both
    from orchestration.predictive.summaries import customer_summaries

    say(f"{customers:,} customers: fitting BG/NBD and Gamma-Gamma")
    started = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (as_of,) = con.execute("SELECT as_of_date FROM intermediate.int_as_of_date").fetchone()
        summaries = customer_summaries(con, as_of)
    bg, gg = fit_both(summaries)
    seconds = time.perf_counter() - started
    say(f"{customers:,} customers: fitted in {seconds:.1f} s (BG/NBD {bg.iterations} iterations, "
        f"Gamma-Gamma {gg.iterations})")
    return seconds


def measure_quality(customers: int, warehouse: Path) -> tuple[QualityTiming, ...]:
    """Time the GX suites of the order tables (raw and staging), as the asset checks run them."""
    import duckdb

    from ingestion.contract import ENTITIES
    from orchestration.resources.dbt import project_var
    from quality.rules.raw import raw_row_rules
    from quality.rules.staging import staging_relation, staging_rules
    from quality.suites import rules_suite
    from quality.validation import validate_relation

    orders = ENTITIES["orders"]
    suites = [
        (orders.raw_table, raw_row_rules("orders"), orders.columns),
        (staging_relation(orders), staging_rules(orders, project_var("reporting_currency")), ()),
    ]
    timings = []
    for relation, rules, columns in suites:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            rows = con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
        say(f"{customers:,} customers: GX suite on {relation} ({rows:,} rows, {len(rules)} rules)")
        started = time.perf_counter()
        outcome = validate_relation(warehouse, relation, rules_suite(relation, rules, columns))
        timings.append(QualityTiming(relation, rows, len(outcome.outcomes), time.perf_counter() - started))
    return tuple(timings)


def verdict(holds: bool) -> str:
    """PASS/FAIL text of one target."""
    return "PASS" if holds else "FAIL"


def print_report(results: list[SizeResult]) -> None:
    """The results table, the speed-ups and the targets at TARGET_CUSTOMERS."""
    print()
    print(f"{'customers':>10} {'orders':>12}  {'implementation':<14} {'wall s':>8} {'peak RSS MiB':>13}  status")
    for result in results:
        for measurement in (result.dbt, result.pandas):
            status = "ok" if measurement.ok else f"exit {measurement.returncode}"
            print(
                f"{result.customers:>10,} {result.orders:>12,}  {measurement.implementation:<14} "
                f"{measurement.seconds:>8.1f} {measurement.peak_rss_mib:>13,.0f}  {status}"
            )
    print()
    for result in results:
        speedup = result.speedup
        text = f"{speedup:.2f}x" if speedup is not None else "n/a (a run failed)"
        print(f"speed-up pandas/dbt at {result.customers:,} customers: {text}")

    for result in results:
        if result.dbt_fixed_seconds is not None:
            print(f"dbt's fixed cost at {result.customers:,} customers (build of one 1-row model): "
                  f"{result.dbt_fixed_seconds:.1f} s")
        if result.dbt_nodes:
            slowest = ", ".join(f"{node.name} {node.seconds:.1f} s" for node in result.dbt_nodes)
            print(f"slowest dbt nodes at {result.customers:,} customers: {slowest}")

    print()
    for result in results:
        for timing in result.quality:
            print(f"GX suite at {result.customers:,} customers: {timing.relation} ({timing.rows:,} rows, "
                  f"{timing.expectations} expectations) {timing.seconds:.1f} s")

    for result in results:
        if result.model_fit_seconds is not None:
            print(f"BG/NBD + Gamma-Gamma fit at {result.customers:,} customers (summaries from DuckDB included): "
                  f"{result.model_fit_seconds:.1f} s")

    at_target = [result for result in results if result.customers == TARGET_CUSTOMERS]
    print()
    if not at_target:
        print(f"targets: not checked (they apply at {TARGET_CUSTOMERS:,} customers; "
              f"pass --customers {TARGET_CUSTOMERS})")
        return
    result = at_target[0]
    dbt, speedup = result.dbt, result.speedup
    checks = [
        (f"dbt build < {TARGET_DBT_SECONDS:.0f} s", dbt.ok and dbt.seconds < TARGET_DBT_SECONDS, f"{dbt.seconds:.1f} s"),
        (
            f"dbt peak RSS < {TARGET_DBT_PEAK_MIB / 1024:.0f} GiB",
            dbt.ok and dbt.peak_rss_mib < TARGET_DBT_PEAK_MIB,
            f"{dbt.peak_rss_mib:,.0f} MiB",
        ),
        (
            f"dbt >= {TARGET_SPEEDUP:.0f}x faster than pandas",
            speedup is not None and speedup >= TARGET_SPEEDUP,
            f"{speedup:.2f}x" if speedup is not None else "n/a",
        ),
    ]
    print(f"targets at {TARGET_CUSTOMERS:,} customers:")
    for name, holds, measured in checks:
        print(f"  {name:<36} {verdict(holds)}  ({measured})")


def run_reference_only(warehouse: Path) -> None:
    """Child mode: compute the pandas marts of `warehouse` and print their sizes and the time."""
    sys.path.insert(0, str(PROJECT_ROOT))  # tests/ is not an installed package
    from tests.reference.pandas_marts import compute_marts

    started = time.perf_counter()
    marts = compute_marts(warehouse)
    seconds = time.perf_counter() - started
    for name, frame in marts.items():
        print(f"{name:<26} {len(frame):>12,} rows")
    print(f"compute_marts: {seconds:.1f} s")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, nargs="+", default=list(DEFAULT_CUSTOMERS),
                        help="Sizes to benchmark (default: 100000 1000000).")
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "retention-benchmark",
                        help="Where each size's data lives, in <work-dir>/<customers>/ (default: %(default)s).")
    parser.add_argument("--regenerate", action="store_true", help="Generate the demo data again even if present.")
    parser.add_argument("--skip-run", action="store_true",
                        help="Use an existing warehouse as it is instead of running `retention run` first.")
    parser.add_argument("--reference-only", type=Path, metavar="WAREHOUSE",
                        help="(internal) Only compute the pandas marts of WAREHOUSE; the timed child process.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Benchmark every requested size, then print the table and the targets."""
    args = parse_args(argv)
    if args.reference_only is not None:
        run_reference_only(args.reference_only)
        return
    sys.path.insert(0, str(PROJECT_ROOT))
    results = [
        benchmark_size(customers, args.work_dir, args.regenerate, args.skip_run) for customers in args.customers
    ]
    print_report(results)


if __name__ == "__main__":
    main()
