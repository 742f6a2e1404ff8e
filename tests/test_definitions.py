"""The Definitions object: one graph from raw through staging, the job, schedule and sensor."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import pytest

from orchestration.assets.dbt import dbt_build_args
from orchestration.definitions import build_definitions
from orchestration.jobs.refresh import new_landing_files_sensor
from orchestration.resources.landing import LandingZone

RAW_KEYS = {dg.AssetKey(["raw", e]) for e in
            ("customers", "interactions", "orders", "order_items", "survey_responses")}
# Every staging model also reads the change log (which keys to redo) and its own watermark in it.
CHANGE_LOG = {"changed_keys", "consumed_changes"}
STAGING_PARENTS = {
    "stg_crm__customers": {"customers"} | CHANGE_LOG,
    "stg_crm__interactions": {"interactions"} | CHANGE_LOG,
    "stg_orders__orders": {"orders", "order_status_map", "source_statuses"} | CHANGE_LOG,
    "stg_orders__order_items": {"order_items"} | CHANGE_LOG,
    "stg_surveys__survey_responses": {"survey_responses"} | CHANGE_LOG,
}


def test_definitions_load_with_one_graph_from_raw_to_staging(settings):
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    assert RAW_KEYS <= keys
    for model, parents in STAGING_PARENTS.items():
        node = graph.get(dg.AssetKey(["staging", model]))
        assert {k.path[-1] for k in node.parent_keys} == parents, model
        entity = model.split("__")[1]
        # Staging reads raw without the quarantined rows: both are its parents.
        assert {dg.AssetKey(["raw", entity]), dg.AssetKey(["quarantine", entity])} <= set(node.parent_keys)
        assert node.group_name == "staging"
    # dbt sources are the ingestion assets themselves, not separate external assets.
    for key in RAW_KEYS:
        assert graph.get(key).is_materializable and graph.get(key).group_name == "raw"


def test_job_schedule_and_sensor_are_defined(settings):
    defs = build_definitions(settings)
    assert defs.resolve_job_def("refresh_warehouse") is not None
    schedule = defs.resolve_schedule_def("daily_refresh")
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert defs.resolve_sensor_def("new_landing_files").job_name == "refresh_warehouse"


def test_dbt_tests_are_asset_checks(settings):
    checks = build_definitions(settings).resolve_asset_graph().asset_check_keys
    names = {(c.asset_key.path[-1], c.name) for c in checks}
    assert ("stg_orders__orders", "not_null_stg_orders__orders_order_id") in names
    assert len(checks) >= 20
    # One home per rule: one row per key is the GX staging check's, not also a dbt test.
    assert ("stg_orders__orders", "staging_rules") in names
    assert not [name for model, name in names if model.startswith("stg_") and name.startswith(
        ("unique_", "relationships_"))]


def test_every_layer_has_its_quality_checks_and_the_gates_block(settings):
    checks = build_definitions(settings).resolve_asset_graph().asset_check_keys
    by_asset: dict[dg.AssetKey, set[str]] = {}
    for check in checks:
        by_asset.setdefault(check.asset_key, set()).add(check.name)
    for entity in ("customers", "interactions", "orders", "order_items", "survey_responses"):
        assert "raw_rules" in by_asset[dg.AssetKey(["raw", entity])]
        assert "bad_share_within_limit" in by_asset[dg.AssetKey(["quarantine", entity])]
    for model in STAGING_PARENTS:
        assert {"staging_rules", "reconciles_with_raw"} <= by_asset[dg.AssetKey(["staging", model])]
    for mart in ("cohort_retention", "customer_retention", "customer_rfm", "customer_lifetime_value",
                 "clv_summary", "survey_scores", "dim_customers"):
        assert "mart_rules" in by_asset[dg.AssetKey(["marts", mart])]
    defs = build_definitions(settings)
    specs = {spec.key: spec for checks_def in defs.asset_checks for spec in checks_def.check_specs}
    blocking = {key.name for key, spec in specs.items() if spec.blocking}
    assert blocking == {"bad_share_within_limit", "staging_rules", "reconciles_with_raw", "mart_rules"}


def test_no_step_waits_for_a_pool_slot_and_no_run_for_a_queue_slot(settings, tmp_path, monkeypatch):
    """A killed run once kept its pool slot and blocked every later run: one writer is the lock file now."""
    from orchestration.instance import dagster_home

    defs = build_definitions(settings)
    pooled = {key for assets_def in defs.resolve_asset_graph().assets_defs if assets_def.is_executable
              and assets_def.op.pool for key in assets_def.keys}
    assert pooled == set()
    assert not defs.resolve_job_def("refresh_warehouse").tags
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    dagster_home()
    with dg.DagsterInstance.get() as instance:
        config = instance.get_concurrency_config()
    assert config.run_queue_config.tag_concurrency_limits == []


def test_dbt_build_args():
    assert dbt_build_args({}) == ["build"]
    assert dbt_build_args({"reporting_time_zone": "Asia/Shanghai", "as_of_date": "2025-06-30"}) == [
        "build", "--vars", json.dumps({"as_of_date": "2025-06-30", "reporting_time_zone": "Asia/Shanghai"}),
    ]
    assert dbt_build_args({}, select="staging") == ["build", "--select", "staging"]


def sensor_tick(landing: LandingZone, cursor: str | None) -> dg.SensorResult:
    """One evaluation of the new-file sensor."""
    return new_landing_files_sensor(dg.build_sensor_context(cursor=cursor, resources={"landing": landing}))


def test_sensor_requests_a_run_only_for_content_the_manifest_has_not_seen(settings, tiny_run):
    landing = LandingZone(landing_dir=str(settings.landing_dir), landed_record=str(settings.landed_record_path))
    # After a run (as after `retention ui` starts, a CLI run or `--fresh`): everything is loaded, nothing starts.
    first = sensor_tick(landing, None)
    assert not first.run_requests and "not seen" in first.skip_reason.skip_message
    # A new modification time is not new content.
    lines = settings.landing_dir / "order_items" / "order_items.csv"
    os.utime(lines, ns=(lines.stat().st_atime_ns, lines.stat().st_mtime_ns + 10**9))
    touched = sensor_tick(landing, first.cursor)
    assert not touched.run_requests

    # Changed content and a new file: one run, naming both.
    original = lines.read_bytes()
    lines.write_text(lines.read_text(encoding="utf-8") + "O1,9,P1,Tea,1,5.00,0\n", encoding="utf-8")
    (settings.landing_dir / "orders" / "more.csv").write_text("order_id\nO98\n", encoding="utf-8")
    changed = sensor_tick(landing, touched.cursor)
    (request,) = changed.run_requests
    assert request.tags["retention/new_files"] == "order_items/order_items.csv, orders/more.csv"
    assert request.tags["retention/new_file_count"] == "2"
    # Requested once: the next tick, before that run has loaded it, starts nothing more.
    assert not sensor_tick(landing, changed.cursor).run_requests

    # Content put back as the manifest has it is not new, whatever its modification time.
    lines.write_bytes(original)
    (settings.landing_dir / "orders" / "more.csv").unlink()
    assert not sensor_tick(landing, changed.cursor).run_requests
    assert not sensor_tick(landing, None).run_requests


def test_sensor_sees_mapped_exports_outside_the_entity_folders(tiny_landing, tmp_path):
    sources = tmp_path / "mapped.yml"
    sources.write_text('files:\n  shop: {glob: "exports/*.csv", preset: order_lines}\n', encoding="utf-8")
    landing = LandingZone(landing_dir=str(tiny_landing), sources_file=str(sources))
    first = sensor_tick(landing, None)
    (tiny_landing / "exports").mkdir()
    (tiny_landing / "exports" / "lines.csv").write_text("order_id\nM1\n", encoding="utf-8")
    second = sensor_tick(landing, first.cursor)
    assert second.run_requests[0].tags["retention/new_files"] == "exports/lines.csv"


@dg.asset
def one() -> int:
    """An asset to materialise on a project instance."""
    return 1


def project_dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dagster_yaml: str | None = None) -> Path:
    """A Dagster home set up as the CLI sets up .dagster (with `dagster_yaml` written there first)."""
    from orchestration.instance import dagster_home

    home = tmp_path / "dagster_home"
    home.mkdir()
    if dagster_yaml is not None:
        (home / "dagster.yaml").write_text(dagster_yaml, encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    dagster_home()
    return home


def test_the_instance_stores_events_through_one_engine_per_file(tmp_path, monkeypatch):
    from orchestration.instance import EARLIER_DAGSTER_YAML
    from orchestration.runs.event_storage import SqliteEventLogStorage

    # An unedited dagster.yaml of an earlier release is brought up to date; an edited one would be left alone.
    home = project_dagster_home(tmp_path, monkeypatch, EARLIER_DAGSTER_YAML)
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert type(storage) is SqliteEventLogStorage
        result = dg.materialize([one], instance=instance)
        assert result.success
        # Where Dagster keeps them, one engine for the run's file and one for the index, whatever the events.
        assert (home / "history" / "runs" / f"{result.run_id}.db").exists()
        assert sorted(storage._engines) == sorted(["index", result.run_id])
        # One connection per file, kept open; commits return before the disk flush (WAL, synchronous
        # NORMAL = 1; SQLite's default FULL = 2).
        with storage._connect(result.run_id) as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
            first = conn.connection.dbapi_connection
        with storage._connect(result.run_id) as conn:
            assert conn.connection.dbapi_connection is first
        events = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        assert [event.dagster_event.asset_key for event in events] == [dg.AssetKey("one")]


def test_the_event_log_keeps_only_the_most_recently_used_files_open(tmp_path):
    from orchestration.runs.event_storage import OPEN_FILES, SqliteEventLogStorage

    storage = SqliteEventLogStorage(base_dir=str(tmp_path))
    shards = ["index", *(f"run{number}" for number in range(6))]
    for shard in shards:
        with storage._connect(shard) as conn:
            conn.exec_driver_sql("SELECT 1")
    assert list(storage._engines) == shards[-OPEN_FILES:]
    storage.dispose()
    assert not getattr(storage, "_engines", {})


@dg.asset(check_specs=[dg.AssetCheckSpec(f"check_{number}", asset="checked") for number in range(3)])
def checked():
    yield dg.Output(1)
    for number in range(3):
        yield dg.AssetCheckResult(check_name=f"check_{number}", passed=number != 1)


def test_the_event_log_looks_each_index_table_up_once(tmp_path, monkeypatch):
    import sqlite3

    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage as DagsterStorage

    looked_up: list[str] = []
    dagsters = DagsterStorage.has_table
    monkeypatch.setattr(DagsterStorage, "has_table", lambda self, name: looked_up.append(name) or dagsters(self, name))
    home = project_dagster_home(tmp_path, monkeypatch)
    with dg.DagsterInstance.get() as instance:
        runs = [dg.materialize([checked], instance=instance, raise_on_error=False).run_id for _ in range(2)]
    # Six check results stored (each planned, then evaluated), one lookup of their table.
    assert looked_up.count("asset_check_executions") == 1
    with sqlite3.connect(home / "history" / "runs" / "index.db") as index:
        stored = index.execute("SELECT run_id, check_name, execution_status FROM asset_check_executions").fetchall()
    assert sorted(stored) == sorted((run, f"check_{number}", "SUCCEEDED" if number != 1 else "FAILED")
                                    for run in runs for number in range(3))


def test_a_watcher_sees_the_events_of_a_run_whose_file_stays_open(tmp_path, monkeypatch):
    import time

    project_dagster_home(tmp_path, monkeypatch)
    with dg.DagsterInstance.get() as instance:
        run_id = dg.materialize([one], instance=instance).run_id
        seen: list[str] = []
        # As the UI follows a running run: the file stays open, so a commit changes only its WAL file.
        instance.watch_event_logs(run_id, None, lambda entry, _cursor: seen.append(entry.dagster_event.message))
        instance.report_engine_event("one more event", instance.get_run_by_id(run_id))
        deadline = time.monotonic() + 20
        while "one more event" not in seen and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "one more event" in seen
