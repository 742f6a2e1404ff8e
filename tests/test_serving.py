"""Publishing: the checked marts reach the serving file and Parquet, and a failed run leaves them as they were."""

from __future__ import annotations

import duckdb
import pytest
import sqlalchemy as sa

from orchestration.run import run_refresh
from tests.fixtures import COMPLETED_REVENUE, write_usd_orders

pytestmark = pytest.mark.slow


def read_only_engine(path) -> sa.Engine:
    """The documented SQLAlchemy URL for BI tools and notebooks: duckdb-engine, read-only."""
    return sa.create_engine(f"duckdb:///{path}", connect_args={"read_only": True})


def test_a_run_publishes_every_mart_and_readers_see_which_version(settings, tiny_landing):
    outcome = run_refresh(settings, persist_run=False)
    assert outcome.success, outcome.failures
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
    assert tables == expected | {"_publication"} and marts == len(expected)
    parquet = settings.serving_path.parent / "parquet" / "current" / "fct_orders.parquet"
    # Six orders, of which O6 (pending, Apr 6) falls after T (Mar 10, the last completed order).
    assert duckdb.execute("SELECT count(*) FROM read_parquet(?)", [str(parquet)]).fetchone() == (5,)


def test_a_failed_run_leaves_the_published_version_in_place(settings, tiny_landing):
    first = run_refresh(settings, persist_run=False)
    assert first.success, first.failures
    write_usd_orders(tiny_landing)
    second = run_refresh(settings, persist_run=False)
    assert not second.success
    engine = read_only_engine(settings.serving_path)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT run_id FROM marts._publication")).scalar_one() == first.run_id
        assert conn.execute(sa.text("SELECT count(*) FROM marts.fct_orders")).scalar_one() == 5
    engine.dispose()
