"""Incremental builds equal full rebuilds: after every daily load, row for row.

The days of tests/incremental_days.py arrive one by one into one warehouse
that is brought up to date the way runs do it (new loads, quarantine
updated, the incremental staging models redoing the changed keys). After
each day a second warehouse is built from nothing from the same landing
files (all loaded at once, quarantine rebuilt, every model built whole),
and every staging table must hold exactly the same rows in both;
reconciliation must balance. The incremental models (staging,
int_order_amounts and the customer-level models, with what they read)
are built and compared every day, one day with an as-of date set. On the last day both
build every model, and every table of staging, intermediate and marts must
be equal. (The other intermediate models and marts are tables or views
rebuilt from those on every run: equal inputs make them equal on every day,
so the whole project is built only once, which keeps the test short.) One
day proves that a key nobody touched is not rewritten.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner
from dbt.contracts.graph.manifest import Manifest

from ingestion.contract import ENTITIES
from ingestion.landing.loader import load_landing_entity
from ingestion.pii import DBT_SECRET_VARIABLE
from orchestration.assets.predictive import write_empty_tables
from orchestration.resources.dbt import environment_for_child
from orchestration.settings import DBT_PROJECT_DIR
from quality.quarantine import ensure_quarantine_tables, rebuild_quarantine, update_quarantine
from quality.reconciliation import KEY_COUNTS_TABLE, key_counts_query, reconcile
from tests.fixtures import TEST_PII_KEY
from tests.incremental_days import AS_OF_DATES, DAYS, write_day

# Every day: the incremental models (staging, the order amounts, the customer-level models) and what they read.
INCREMENTAL = ("path:models/staging path:seeds int_reporting_currency int_order_amounts int_orders int_as_of_date "
               "int_period_spine int_customer_activity_by_period int_customer_orders")
EVERYTHING = "path:models path:seeds"
BUILT_SCHEMAS = ("staging", "intermediate", "marts", "restricted")


def build(warehouse: Path, target: Path, select: str, manifests: dict[Path, Manifest],
          as_of_date: str | None = None) -> None:
    """Build the selected dbt models and seeds in `warehouse`; not the data tests, which other tests run.

    In this process (dbt's programmatic runner), with the project parsed
    once per warehouse (`manifests`, the parse names the warehouse's
    catalog), so that twenty builds do not each start dbt and parse anew.
    """
    environment = {"RETENTION_WAREHOUSE": str(warehouse), DBT_SECRET_VARIABLE: TEST_PII_KEY}
    options = ["--quiet", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
               "--target-path", str(target), "--log-path", str(target / "logs")]
    with environment_for_child(environment):
        if warehouse not in manifests:
            manifests[warehouse] = dbtRunner().invoke(["parse", *options]).result
        result = dbtRunner(manifest=manifests[warehouse]).invoke(
            ["build", "--select", select, "--exclude", "resource_type:test", "--no-write-json",
             *(["--vars", json.dumps({"as_of_date": as_of_date})] if as_of_date else []), *options])
    # dbt-duckdb keeps its database open for the next invocation: close it, so this process can open the file.
    if DuckDBConnectionManager._ENV is not None:
        DuckDBConnectionManager._ENV.close()
        DuckDBConnectionManager.close_all_connections()
    assert result.success, result.exception or [r.message for r in result.result if r.status == "error"]


def built_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    """Every table and view the dbt project built in `catalog`, as schema.name."""
    return [f"{schema}.{name}" for schema, name in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = ? "
        f"AND table_schema IN {BUILT_SCHEMAS} ORDER BY 1, 2", [catalog]).fetchall()]


def rebuilt_from_scratch(landing: Path, directory: Path, select: str, manifests: dict[Path, Manifest],
                         as_of_date: str | None = None) -> Path:
    """A warehouse built from nothing from the landing files as they are now; return its path."""
    warehouse = directory / "rebuild.duckdb"
    warehouse.unlink(missing_ok=True)
    with duckdb.connect(str(warehouse)) as con:
        ensure_quarantine_tables(con)
        for entity in ENTITIES.values():
            load_landing_entity(con, landing, entity)
        for entity in ENTITIES.values():
            rebuild_quarantine(con, entity)
        write_empty_tables(con)
    build(warehouse, directory / "rebuild_target", select, manifests, as_of_date)
    return warehouse


def differing_tables(warehouse: Path, rebuild: Path) -> list[str]:
    """The tables built in both warehouses whose rows differ (as multisets); asserts both built the same ones."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(f"ATTACH '{rebuild}' AS rebuild (READ_ONLY)")
        tables = built_tables(con, "rebuild")
        assert set(tables) <= set(built_tables(con, "warehouse")), tables
        return [table for table in tables if con.execute(
            f"SELECT (SELECT count(*) FROM (FROM {table} EXCEPT ALL FROM rebuild.{table})) + "
            f"(SELECT count(*) FROM (FROM rebuild.{table} EXCEPT ALL FROM {table}))").fetchone()[0]]


def test_incremental_models_equal_a_full_rebuild_after_every_day(tmp_path: Path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ensure_quarantine_tables(con)
        write_empty_tables(con)
    compared: list[str] = []
    manifests: dict[Path, Manifest] = {}
    for day, (files, _) in enumerate(DAYS, start=1):
        select = EVERYTHING if day == len(DAYS) else INCREMENTAL
        write_day(landing, files)
        with duckdb.connect(str(warehouse)) as con:
            for entity in ENTITIES.values():
                load_landing_entity(con, landing, entity)
            for entity in ENTITIES.values():
                update_quarantine(con, entity)
            if day == 3:
                # Day 3 touches orders only: a customer row is marked by hand (in a lineage column, which no
                # later model reads), and must still be marked after the build: a rebuild would write it anew.
                con.execute("UPDATE staging.stg_crm__customers SET _source_file = 'marked' WHERE customer_id = 'C1'")
        build(warehouse, tmp_path / "target", select, manifests, AS_OF_DATES.get(day))
        with duckdb.connect(str(warehouse)) as con:
            if day == 3:
                assert con.execute("SELECT _source_file FROM staging.stg_crm__customers WHERE customer_id = 'C1'"
                                   ).fetchone() == ("marked",)
                con.execute("UPDATE staging.stg_crm__customers SET _source_file = 'customers/c1.csv' "
                            "WHERE customer_id = 'C1'")
            for entity in ENTITIES.values():
                counts = reconcile(con, entity)
                assert counts.balances, f"day {day}: {counts.describe()}"
                # The per-key counts, updated for the changed keys only, equal a count of every key.
                assert con.execute(f"SELECT sum(accepted_rows), sum(versions), sum(distinct_keys) FROM "
                                   f"{KEY_COUNTS_TABLE} WHERE entity = ?", [entity.name]).fetchone() == \
                    con.execute(f"SELECT sum(accepted_rows), sum(versions), sum(distinct_keys) FROM "
                                f"({key_counts_query(entity, None)})").fetchone(), f"day {day}: {entity.name}"

        rebuild = rebuilt_from_scratch(landing, tmp_path, select, manifests, AS_OF_DATES.get(day))
        assert differing_tables(warehouse, rebuild) == [], f"day {day}: these differ from a rebuild"
        with duckdb.connect(str(rebuild), read_only=True) as con:
            compared = built_tables(con, "rebuild")

    # The last day compared every model, and the story reached the marts: O2 (released on day 2, moved
    # on day 10) is a completed order of C1 in the order fact, C1 lives in Beijing since day 9.
    assert {"staging.stg_orders__orders", "intermediate.int_orders", "marts.fct_orders", "marts.cohort_retention",
            "marts.customer_rfm", "marts.dim_customers"} <= set(compared) and len(compared) > 20
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT customer_id, order_status FROM marts.fct_orders WHERE order_id = 'O2'"
                           ).fetchone() == ("C1", "completed")
        assert con.execute("SELECT city FROM marts.dim_customers WHERE customer_id = 'C1'").fetchone() == ("Beijing",)
