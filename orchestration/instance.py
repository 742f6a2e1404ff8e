"""The project's Dagster instance home (.dagster/), shared by the CLI and `dagster dev`.

Runs started from the CLI are stored there too, so they show in the UI.
"""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.resources.warehouse import WRITER_RUN_TAG
from orchestration.settings import PROJECT_ROOT

[(_WRITER_KEY, _WRITER_VALUE)] = WRITER_RUN_TAG.items()
DAGSTER_YAML = f"""\
# Written by `retention`; edit freely, it is not overwritten.
# Every asset that writes the DuckDB warehouse is in the pool below: one slot,
# because DuckDB allows a single writing process (across runs too).
# The run queue starts one warehouse-writing run at a time (the job's run tag).
concurrency:
  pools:
    default_limit: 1
  runs:
    tag_concurrency_limits:
      - key: {_WRITER_KEY}
        value: {_WRITER_VALUE}
        limit: 1
telemetry:
  enabled: false
"""


def dagster_home() -> Path:
    """Return DAGSTER_HOME (default <project>/.dagster), created with a dagster.yaml if missing."""
    home = Path(os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    return home
