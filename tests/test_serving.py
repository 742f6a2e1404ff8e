"""Publishing: the checked marts reach the serving file and Parquet, and a failed run leaves them as they were."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from orchestration.runs.refresh import run_refresh
from orchestration.serving.publish import parquet_files
from quality.rules.marts import MART_RULES
from quality.rules.row_rule import RowRule
from tests.fixtures import COMPLETED_REVENUE, write_more_orders, write_usd_orders

pytestmark = pytest.mark.slow


def read_only_engine(path) -> sa.Engine:
    """The documented SQLAlchemy URL for BI tools and notebooks: duckdb-engine, read-only."""
    return sa.create_engine(f"duckdb:///{path}", connect_args={"read_only": True})


def test_a_run_publishes_every_mart_and_readers_see_which_version(settings, tiny_run):
    outcome = tiny_run
    engine = read_only_engine(settings.serving_path)
    with engine.connect() as conn:
        run_id, marts = conn.execute(sa.text("SELECT run_id, marts FROM marts._publication")).one()
        revenue = conn.execute(sa.text(
            "SELECT sum(net_revenue) FROM marts.fct_orders WHERE is_completed")).scalar_one()
        tables = set(conn.execute(sa.text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'")).scalars())
    engine.dispose()
    assert run_id == outcome.run_id
    assert float(revenue) == COMPLETED_REVENUE
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as warehouse:
        expected = {name for (name,) in warehouse.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'").fetchall()}
    assert tables == expected | {"_publication", "_parts"} and marts == len(expected)
    parquet = parquet_files(settings.serving_path.parent / "parquet" / "current", "fct_orders")
    # Six orders, of which O6 (pending, Apr 6) falls after T (Mar 10, the last completed order).
    assert duckdb.execute("SELECT count(*) FROM read_parquet(?)", [str(parquet)]).fetchone() == (5,)
    # The report asset ran after publishing, on the same version.
    assert f"run {outcome.run_id}" in settings.report_path.read_text(encoding="utf-8")


def test_a_failed_run_leaves_the_published_version_in_place(settings, tiny_run):
    first = tiny_run
    write_usd_orders(settings.landing_dir)
    second = run_refresh(settings, persist_run=False)
    assert not second.success
    engine = read_only_engine(settings.serving_path)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT run_id FROM marts._publication")).scalar_one() == first.run_id
        assert conn.execute(sa.text("SELECT count(*) FROM marts.fct_orders")).scalar_one() == 5
    engine.dispose()


def test_a_failed_mart_check_leaves_the_published_version_and_report_in_place(settings, tiny_run, monkeypatch):
    first = tiny_run
    report = settings.report_path.read_text(encoding="utf-8")
    # A stricter rule on customer_rfm that this data breaks: every customer with an order has monetary > 0.
    strict = RowRule("customer_rfm.strict_for_the_test", "customer_rfm", "monetary",
                     "a customer spent something (a rule made to fail)", "monetary > 0")
    monkeypatch.setitem(MART_RULES, "customer_rfm", [*MART_RULES["customer_rfm"], strict])
    write_more_orders(settings.landing_dir)
    second = run_refresh(settings, persist_run=False)
    assert not second.success
    assert any(m.startswith("check mart_rules on marts/customer_rfm failed") for m in second.failures), second.failures
    # The warehouse has the new marts, the readers still the old ones: 5 order rows, 136.00 (not 8 and 160.00).
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as warehouse:
        assert warehouse.execute("SELECT count(*) FROM marts.fct_orders").fetchone() == (8,)
    engine = read_only_engine(settings.serving_path)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT run_id FROM marts._publication")).scalar_one() == first.run_id
        assert conn.execute(sa.text("SELECT count(*), sum(net_revenue) FILTER (WHERE is_completed) "
                                    "FROM marts.fct_orders")).one() == (5, COMPLETED_REVENUE)
    engine.dispose()
    parquet = parquet_files(settings.serving_path.parent / "parquet" / "current", "fct_orders")
    assert duckdb.execute("SELECT count(*) FROM read_parquet(?)", [str(parquet)]).fetchone() == (5,)
    assert settings.report_path.read_text(encoding="utf-8") == report


def test_publishing_after_a_kill_removes_debris_and_matches_parquet_to_the_serving_file(settings, tiny_run):
    """What kills at three moments of a publication leave, and what the next publication makes of it."""
    from orchestration.serving.publish import COMPLETE_MARKER, publish_marts, read_publication, remove_debris

    serving = settings.serving_path
    versions = serving.parent / "parquet" / "versions"
    current = serving.parent / "parquet" / "current"
    first = read_publication(serving).run_id
    # 1. killed while writing: a temporary file (and its WAL) and a folder without its marker.
    (serving.parent / f".{serving.name}.dead-run.tmp").write_bytes(b"half")
    (serving.parent / f".{serving.name}.dead-run.tmp.wal").write_bytes(b"half")
    (versions / "dead-run").mkdir()
    (versions / "dead-run" / "dim_customers.parquet").write_bytes(b"")
    # 2. killed between the two swaps: the Parquet link still at an older complete version.
    (versions / "older").mkdir()
    (versions / "older" / COMPLETE_MARKER).write_text('{"published_at": "2000-01-01T00:00:00"}', encoding="utf-8")
    current.unlink()
    current.symlink_to(Path("versions") / "older", target_is_directory=True)
    removed = remove_debris(serving)
    assert sorted(p.name for p in removed) == [f".{serving.name}.dead-run.tmp", f".{serving.name}.dead-run.tmp.wal",
                                               "dead-run"]
    assert current.resolve() == (versions / first).resolve()  # matches the serving file again
    # 3. a whole publication after that keeps the previous complete version and the new one only.
    with duckdb.connect(str(settings.warehouse_path)) as con:
        publication = publish_marts(con, serving, "next-run", None)
    assert read_publication(serving).run_id == "next-run" == publication.run_id
    assert current.resolve() == (versions / "next-run").resolve()
    assert sorted(p.name for p in versions.iterdir()) == sorted({first, "next-run"})
    assert all((versions / name / COMPLETE_MARKER).exists() for name in (first, "next-run"))
