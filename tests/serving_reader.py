"""A reader of the serving file in its own process, for the concurrency test.

    python -m tests.serving_reader SERVING_FILE OUT_FILE STOP_FILE {hold|reconnect}

`hold` opens one read-only connection and queries it in a loop, as a BI tool
with a pooled connection does; `reconnect` opens a new read-only connection
for every query, as a tool without a pool does. Each query reads the version
(run id) and every mart's row count in one statement, so the answer is one
snapshot. One JSON line per query goes to OUT_FILE: the run id and counts, or
the error. The loop ends after the first query that starts once STOP_FILE exists.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

MARTS = ("fct_orders", "dim_customers", "cohort_retention", "customer_retention", "customer_rfm",
         "customer_lifetime_value", "clv_summary", "survey_scores", "churn_risk", "customer_predictions")
SNAPSHOT_QUERY = "SELECT (SELECT run_id FROM marts._publication), " + ", ".join(
    f"(SELECT count(*) FROM marts.{mart})" for mart in MARTS) + \
    ", (SELECT sum(net_revenue)::VARCHAR FROM marts.fct_orders WHERE is_completed)"


def snapshot(con: duckdb.DuckDBPyConnection) -> dict:
    """The version a connection sees: its run id, rows per mart and completed revenue."""
    run_id, *counts, revenue = con.execute(SNAPSHOT_QUERY).fetchone()
    return {"run_id": run_id, "rows": dict(zip(MARTS, counts)), "revenue": revenue}


def main(serving: Path, out: Path, stop: Path, mode: str) -> None:
    """Query `serving` until `stop` exists, appending one observation per query to `out`."""
    # One thread and a pause between queries: a steady reader that leaves the run its two cores.
    config = {"threads": 1}
    held = duckdb.connect(str(serving), read_only=True, config=config) if mode == "hold" else None
    with out.open("a", encoding="utf-8") as log:
        while True:
            stopping = stop.exists()
            try:
                if held is not None:
                    observation = snapshot(held)
                else:
                    with duckdb.connect(str(serving), read_only=True, config=config) as con:
                        observation = snapshot(con)
            except duckdb.Error as error:
                observation = {"error": str(error)}
            log.write(json.dumps({"mode": mode, "at": time.time(), **observation}) + "\n")
            log.flush()
            if stopping:
                break
            time.sleep(0.2)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])
