"""The warehouse refresh: the whole graph, daily and whenever new files land."""

import hashlib
import json
import os
from pathlib import Path

import dagster as dg

from ingestion.contract import ENTITIES
from ingestion.landing.discovery import landing_snapshot
from ingestion.landing.encoding import fingerprint
from orchestration.resources.landing import LandingZone
from orchestration.runs.report import read_landed_record

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


# At most this many file names go into a run's tags; the count says how many there were.
FILES_IN_TAGS = 20


@dg.sensor(
    name="new_landing_files",
    job=refresh_warehouse_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Start a refresh when a landing file holds content the load manifest has not seen.",
)
def new_landing_files_sensor(context: dg.SensorEvaluationContext, landing: LandingZone) -> dg.SensorResult:
    """Request a refresh for landing files whose content no run has loaded (by SHA-256, not by mtime).

    The runs record what the manifest holds (`landed.json`, written when a run
    ends; the sensor cannot open the warehouse while a run writes it). A file
    is hashed again only when its signature (size, times, inode) changed; content
    a run was already requested for is not requested twice. So starting the
    UI, a CLI run, `touch` or a copy of the same bytes start nothing. The run's
    tags name the files (`retention/new_files`).
    """
    cursor = json.loads(context.cursor) if context.cursor else {}
    signatures = landing_snapshot(landing.path, sorted(ENTITIES), [source.glob for source in landing.mapped_sources()])
    known = cursor.get("hashes", {}) if isinstance(cursor.get("hashes"), dict) else {}
    old_signatures = cursor.get("signatures", {})
    hashes = {path: known[path] if old_signatures.get(path) == signature and path in known
              else file_sha256(landing.path / path) for path, signature in signatures.items()}
    landed = read_landed_record(Path(landing.landed_record) if landing.landed_record else None)
    unseen = {path: sha for path, sha in hashes.items() if sha not in landed.get(path, [])}
    requested = cursor.get("requested", {})
    new = sorted(path for path, sha in unseen.items() if requested.get(path) != sha)
    next_cursor = json.dumps({"signatures": signatures, "hashes": hashes, "requested": unseen})
    if not new:
        return dg.SensorResult(skip_reason=dg.SkipReason("no landing file holds content the manifest has not seen"),
                               cursor=next_cursor)
    run_key = hashlib.sha256(json.dumps([[path, hashes[path]] for path in new]).encode()).hexdigest()[:16]
    shown = ", ".join(new[:FILES_IN_TAGS]) + (f" and {len(new) - FILES_IN_TAGS} more" if len(new) > FILES_IN_TAGS
                                              else "")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=run_key, tags={"retention/new_files": shown,
                                                           "retention/new_file_count": str(len(new))})],
        cursor=next_cursor,
    )


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, as the manifest records it (ingestion.raw.manifest LoadRecord.file_sha256)."""
    return fingerprint(path, inspect_text=False).sha256
