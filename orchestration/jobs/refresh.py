"""The warehouse refresh: the whole graph, daily and whenever new files land."""

import hashlib
import json
import os

import dagster as dg

from ingestion.contract import ENTITIES
from ingestion.landing.discovery import changed_files, landing_snapshot
from orchestration.resources.landing import LandingZone

refresh_warehouse_job = dg.define_asset_job(
    name="refresh_warehouse",
    selection=dg.AssetSelection.all(),
    description="Load new source data into raw, build staging and marts, run every check.",
)

daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh",
    job=refresh_warehouse_job,
    cron_schedule=os.environ.get("RETENTION_SCHEDULE_CRON", "0 6 * * *"),
    execution_timezone=os.environ.get("RETENTION_SCHEDULE_TIMEZONE", "UTC"),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refresh the warehouse every day (RETENTION_SCHEDULE_CRON, default 06:00 UTC).",
)


@dg.sensor(
    name="new_landing_files",
    job=refresh_warehouse_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Start a refresh when a file lands (or changes) in the landing directory.",
)
def new_landing_files_sensor(context: dg.SensorEvaluationContext, landing: LandingZone) -> dg.SensorResult:
    """Request a refresh for files that are new or changed since the last tick.

    The cursor remembers each file's size and modification time; a file still
    being written changes between ticks and triggers one more (harmless) run,
    because loading is idempotent by content hash.
    """
    current = landing_snapshot(landing.path, sorted(ENTITIES), [source.glob for source in landing.mapped_sources()])
    previous = json.loads(context.cursor) if context.cursor else {}
    changed = changed_files(current, previous)
    if not changed:
        return dg.SensorResult(skip_reason=dg.SkipReason("no new or changed landing files"))
    run_key = hashlib.sha256(json.dumps({p: current[p] for p in changed}).encode()).hexdigest()[:16]
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=run_key, tags={"retention/changed_files": str(len(changed))})],
        cursor=json.dumps(current),
    )
