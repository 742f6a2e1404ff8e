"""Real faults, as real processes meet them: a run killed with SIGKILL inside a step and while it publishes,
two runs started at once, and readers (`retention status`, `retention sql`) calling all the while.

Each scenario runs `retention run` as its own process (group) with its own data directory and Dagster home,
on the tiny landing set, and ends by comparing the warehouse marts, the serving file and the Parquet files
with the session's clean run of the same files.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingestion.pii import hmac_pads
from orchestration.runs.lock import lock_path
from orchestration.serving.publish import COMPLETE_MARKER, parquet_files, standby_path
from tests.fixtures import TEST_PII_KEY, write_tiny_landing

pytestmark = pytest.mark.slow

RETENTION = str(Path(sys.executable).parent / "retention")
# A rerun after a kill, or a run that waited for another, finishes well within this.
BOUNDED_SECONDS = 240


def environment(root: Path) -> dict[str, str]:
    """Every path of a run in `root`, its own Dagster home, the test PII key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETENTION_")}
    env.update(RETENTION_DATA_DIR=str(root / "data"), RETENTION_SOURCES_FILE=str(root / "none.yml"),
               RETENTION_PII_KEY=TEST_PII_KEY, DAGSTER_HOME=str(root / "dagster"))
    return env


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """`retention ARGS` in a process group of its own (so a kill takes its dbt child too)."""
    return subprocess.Popen([RETENTION, *args], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_until(condition, seconds: float = 120, poll: float = 0.05) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the awaited moment never came"
        time.sleep(poll)


def kill_group(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_to_end(env: dict[str, str], log: Path) -> tuple[int, str]:
    """`retention run` to its end, within the bound; (exit status, output)."""
    process = start(["run"], env, log)
    process.wait(timeout=BOUNDED_SECONDS)
    return process.returncode, log.read_text(encoding="utf-8")


def relation_rows(path: Path, schema: str, query: str = "SELECT * FROM {}") -> dict[str, list]:
    """Every table of `schema` in a DuckDB file, as sorted rows (the publication's own row left out)."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = [n for (n,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? AND table_name <> '_publication'",
            [schema]).fetchall()]
        return {name: sorted(con.execute(query.format(f'{schema}."{name}"')).fetchall(), key=repr) for name in names}


def parquet_rows(data_dir: Path) -> dict[str, list]:
    current = data_dir / "serving" / "parquet" / "current"
    names = sorted(path.stem for path in current.iterdir() if path.suffix == ".parquet" or path.is_dir())
    with duckdb.connect() as con:
        return {name: sorted(con.execute("SELECT * FROM read_parquet(?)", [parquet_files(current, name)]).fetchall(),
                             key=repr) for name in names}


def assert_equals_clean_run(data_dir: Path, clean_dir: Path) -> None:
    """The marts (warehouse), serving file and Parquet files equal those of a clean run of the same files."""
    warehouse = relation_rows(data_dir / "warehouse.duckdb", "marts")
    assert warehouse == relation_rows(clean_dir / "warehouse.duckdb", "marts")
    serving = relation_rows(data_dir / "serving" / "serving.duckdb", "marts")
    assert serving == relation_rows(clean_dir / "serving" / "serving.duckdb", "marts") and len(serving) >= 10
    assert parquet_rows(data_dir) == parquet_rows(clean_dir)


def assert_no_debris(data_dir: Path) -> None:
    """No temporary serving file or incomplete Parquet version; the standby, if any, is an earlier complete
    publication of its own (not the current file), which the next publication brings up to date."""
    serving = data_dir / "serving"
    standby = standby_path(serving / "serving.duckdb")
    leftovers = [path for path in serving.glob(".serving.duckdb.*") if path != standby]
    assert not leftovers, leftovers
    if standby.exists():
        assert not os.path.samefile(standby, serving / "serving.duckdb")
        with duckdb.connect(str(standby), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM marts._publication").fetchone() == (1,)
    versions = sorted((serving / "parquet" / "versions").iterdir())
    assert versions and all((v / COMPLETE_MARKER).exists() for v in versions), versions
    assert (serving / "parquet" / "current").resolve() in [v.resolve() for v in versions]


def run_statuses(root: Path) -> dict[str, str]:
    """{run id: status} of the runs in a Dagster home."""
    os.environ["DAGSTER_HOME"] = str(root / "dagster")
    try:
        with dg.DagsterInstance.get() as instance:
            return {run.run_id: run.status.value for run in instance.get_runs()}
    finally:
        os.environ.pop("DAGSTER_HOME")


def test_a_run_killed_in_a_step_or_while_publishing_never_blocks_the_next(tmp_path, tiny_run_once):
    clean_dir, _ = tiny_run_once
    env = environment(tmp_path)
    data = tmp_path / "data"
    write_tiny_landing(data / "landing")

    # 1. SIGKILL to the whole group while dbt builds staging (dbt's own process dies with it).
    first = start(["run"], env, tmp_path / "killed_in_step.log")
    wait_until(lambda: "dbt_staging - Running dbt command" in (tmp_path / "killed_in_step.log").read_text())
    kill_group(first)
    holder = json.loads(lock_path(data / "warehouse.duckdb").read_text())
    killed_run = holder["run_id"]  # it died holding the warehouse: its record is still in the lock file

    code, output = run_to_end(env, tmp_path / "after_step_kill.log")
    assert code == 0, output
    assert f"run {killed_run[:8]} (pid {holder['pid']}) died without finishing; marked it failed" in output
    assert run_statuses(tmp_path)[killed_run] == "FAILURE"
    assert lock_path(data / "warehouse.duckdb").read_text() == ""  # released

    # 2. SIGKILL to the run's process alone while dbt builds the marts: its dbt process goes on, and the
    # next run stops it (the killed run had noted it) before it opens the warehouse... (--full-refresh: with
    # nothing new since the last complete run, a run would skip the model steps. The killed run leaves its
    # build incomplete, so the next run builds and publishes although nothing is new.)
    second = start(["run", "--full-refresh"], env, tmp_path / "parent_killed.log")
    wait_until(lambda: "dbt_marts - Running dbt command" in (tmp_path / "parent_killed.log").read_text())
    wait_until(lambda: json.loads(lock_path(data / "warehouse.duckdb").read_text()).get("children", [])[1:])
    os.kill(second.pid, signal.SIGKILL)
    second.wait()
    dbt_pid = json.loads(lock_path(data / "warehouse.duckdb").read_text())["children"][-1][0]

    # 3. ... and that next run is killed (the whole group) while it publishes: a version folder exists that is
    # not complete.
    versions = data / "serving" / "parquet" / "versions"
    before = {p.name for p in versions.iterdir()}
    third = start(["run"], env, tmp_path / "killed_publishing.log")
    wait_until(lambda: {p.name for p in versions.iterdir()} - before, poll=0.002)
    kill_group(third)
    assert not Path(f"/proc/{dbt_pid}").exists() or "zombie" in Path(f"/proc/{dbt_pid}/status").read_text().lower()
    debris = [versions / name for name in {p.name for p in versions.iterdir()} - before]
    assert debris and not any((folder / COMPLETE_MARKER).exists() for folder in debris)
    # Readers still get the last complete version, whole.
    with duckdb.connect(str(data / "serving" / "serving.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.fct_orders").fetchone() == (5,)  # orders up to T

    code, output = run_to_end(env, tmp_path / "after_publish_kill.log")
    assert code == 0, output
    assert_no_debris(data)
    assert not any(folder.exists() for folder in debris)
    assert_equals_clean_run(data, clean_dir)


def test_two_runs_at_once_take_turns_while_readers_call_all_the_time(tmp_path, tiny_run_once):
    clean_dir, _ = tiny_run_once
    began = time.time()
    env = environment(tmp_path)
    data = tmp_path / "data"
    write_tiny_landing(data / "landing")
    lock = lock_path(data / "warehouse.duckdb")

    first = start(["run"], env, tmp_path / "first.log")
    wait_until(lambda: lock.exists() and lock.read_text().strip())
    second = start(["run"], env, tmp_path / "second.log")
    readers: list[tuple[str, int, str]] = []
    while first.poll() is None or second.poll() is None:
        for args in (["status"], ["sql", "SELECT count(*) AS orders FROM marts.fct_orders"]):
            done = subprocess.run([RETENTION, *args], env=env, capture_output=True, text=True, timeout=60)
            readers.append((args[0], done.returncode, done.stdout + done.stderr))
    assert first.wait(timeout=BOUNDED_SECONDS) == 0, (tmp_path / "first.log").read_text()
    assert second.wait(timeout=BOUNDED_SECONDS) == 0, (tmp_path / "second.log").read_text()
    waited = (tmp_path / "second.log").read_text()
    assert "waiting for run " in waited and "(retention run, pid " in waited

    # Every reader call succeeded, but `sql` before the first publication, which says so.
    statuses = [r for r in readers if r[0] == "status"]
    assert len(statuses) >= 5 and all(code == 0 for _, code, _ in statuses), statuses
    for _, code, out in (r for r in readers if r[0] == "sql"):
        assert (code, out.splitlines()[-1]) == (0, "(1 rows)") or "no published marts at" in out, out
    assert any(code == 0 for kind, code, _ in readers if kind == "sql")
    assert any("holds the warehouse now" in out for _, _, out in statuses)
    assert_equals_clean_run(data, clean_dir)
    # The PII key, and the HMAC pads that stand for it, are in no file the runs wrote: logs, run history,
    # reports, serving files, the warehouse, dbt's artefacts and logs.
    secrets = [TEST_PII_KEY.encode(), *(pad for pads in hmac_pads(TEST_PII_KEY) for pad in (pads, pads.hex().encode()))]
    dbt_files = [p for p in (Path(__file__).parents[1] / "dbt_project").rglob("*")
                 if p.is_file() and p.stat().st_mtime >= began]
    written = [*(p for p in tmp_path.rglob("*") if p.is_file()), *dbt_files]
    leaks = [path for path in written if any(s in path.read_bytes() for s in secrets)]
    assert leaks == []
