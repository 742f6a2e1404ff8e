"""Publishing a large mart by its changed parts: the serving file and Parquet equal the warehouse's mart,
and only the parts whose rows changed are written again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration.serving.publish import PARTITIONED_MARTS, parquet_files, publish_marts


def warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    """A warehouse with a partitioned mart (the order fact, by month) and a small one."""
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.fct_orders AS SELECT * FROM (VALUES "
                "('O1', DATE '2024-01-01', 10.00), ('O2', DATE '2024-01-01', 20.00), "
                "('O3', DATE '2024-02-01', 30.00), ('O4', DATE '2024-03-01', 40.00)) AS t(order_id, order_month, net)")
    con.execute("CREATE TABLE marts.customer_retention AS SELECT 'month' AS grain, 0.5::DOUBLE AS rate")
    return con


def served(serving: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute(query).fetchall()


def part_files(current: Path) -> dict[str, int]:
    """{part folder: inode of its file} of the published order fact."""
    return {path.parent.name: path.stat().st_ino for path in (current / "fct_orders").glob("*/*.parquet")}


def test_only_changed_parts_are_written_again_and_both_copies_equal_the_mart(tmp_path):
    assert PARTITIONED_MARTS["fct_orders"] == "order_month"
    serving = tmp_path / "serving" / "serving.duckdb"
    current = serving.parent / "parquet" / "current"
    con = warehouse(tmp_path / "warehouse.duckdb")
    first = publish_marts(con, serving, "run-1", None)
    assert first.rows_by_table == {"fct_orders": 4, "customer_retention": 1}
    files_1 = part_files(current)
    assert sorted(files_1) == ["order_month=2024-01-01", "order_month=2024-02-01", "order_month=2024-03-01"]

    # February's order changes, March's goes, April's arrives; January stays as it was.
    con.execute("UPDATE marts.fct_orders SET net = 31.00 WHERE order_id = 'O3'")
    con.execute("DELETE FROM marts.fct_orders WHERE order_id = 'O4'")
    con.execute("INSERT INTO marts.fct_orders VALUES ('O5', DATE '2024-04-01', 50.00)")
    con.execute("UPDATE marts.customer_retention SET rate = 0.25")
    second = publish_marts(con, serving, "run-2", None)
    assert second.rows_by_table == {"fct_orders": 4, "customer_retention": 1}
    expected = con.execute("SELECT * FROM marts.fct_orders ORDER BY order_id").fetchall()
    assert served(serving, "SELECT * FROM marts.fct_orders ORDER BY order_id") == expected
    assert served(serving, "SELECT rate FROM marts.customer_retention") == [(0.25,)]
    assert served(serving, "SELECT run_id FROM marts._publication") == [("run-2",)]
    assert duckdb.execute("SELECT * FROM read_parquet(?) ORDER BY order_id",
                          [parquet_files(current, "fct_orders")]).fetchall() == expected
    files_2 = part_files(current)
    assert sorted(files_2) == ["order_month=2024-01-01", "order_month=2024-02-01", "order_month=2024-04-01"]
    # January's file is the first version's (a hard link), February's was written again.
    assert files_2["order_month=2024-01-01"] == files_1["order_month=2024-01-01"]
    assert files_2["order_month=2024-02-01"] != files_1["order_month=2024-02-01"]
    assert served(serving, "SELECT part, rows FROM marts._parts ORDER BY part") == [
        ("2024-01-01", 2), ("2024-02-01", 1), ("2024-04-01", 1)]

    # A new column: the mart is published whole, and its parts are all new files.
    con.execute("ALTER TABLE marts.fct_orders ADD COLUMN channel VARCHAR DEFAULT 'web'")
    publish_marts(con, serving, "run-3", None)
    assert served(serving, "SELECT order_id, channel FROM marts.fct_orders ORDER BY order_id") == [
        ("O1", "web"), ("O2", "web"), ("O3", "web"), ("O5", "web")]
    files_3 = part_files(current)
    assert not set(files_3.values()) & set(files_2.values())
    assert duckdb.execute("SELECT count(*), count(channel) FROM read_parquet(?)",
                          [parquet_files(current, "fct_orders")]).fetchone() == (4, 4)


READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("open", flush=True)
sys.stdin.readline()
print(con.execute("SELECT run_id FROM marts._publication").fetchone()[0],
      con.execute("SELECT sum(net) FROM marts.fct_orders").fetchone()[0], flush=True)
"""


def test_the_version_before_the_current_one_is_brought_up_to_date_unless_a_reader_holds_it(tmp_path):
    serving = tmp_path / "serving" / "serving.duckdb"
    standby = serving.with_name(f".{serving.name}.standby")
    current = serving.parent / "parquet" / "current"
    con = warehouse(tmp_path / "warehouse.duckdb")

    def parquet_rows() -> list[tuple]:
        return duckdb.execute("SELECT order_id, order_month, net FROM read_parquet(?, hive_partitioning = false) "
                              "ORDER BY order_id", [parquet_files(current, "fct_orders")]).fetchall()

    publish_marts(con, serving, "run-1", None)
    first_file = serving.stat().st_ino
    assert not standby.exists()  # nothing was published before: nothing to keep
    con.execute("UPDATE marts.fct_orders SET net = 31.00 WHERE order_id = 'O3'")
    publish_marts(con, serving, "run-2", None)
    assert standby.stat().st_ino == first_file  # run-1's file waits for the next publication
    assert served(standby, "SELECT run_id FROM marts._publication") == [("run-1",)]

    # February goes back to what run-1 had: run-1's file is brought up to date in place, and February's
    # Parquet is written again (it differs from run-2's, which a comparison with run-1's hashes would miss).
    con.execute("UPDATE marts.fct_orders SET net = 30.00 WHERE order_id = 'O3'")
    con.execute("UPDATE marts.customer_retention SET rate = 0.75")
    publish_marts(con, serving, "run-3", None)
    expected = con.execute("SELECT * FROM marts.fct_orders ORDER BY order_id").fetchall()
    assert serving.stat().st_ino == first_file
    assert served(serving, "SELECT * FROM marts.fct_orders ORDER BY order_id") == expected
    assert served(serving, "SELECT rate FROM marts.customer_retention") == [(0.75,)]
    assert served(serving, "SELECT run_id FROM marts._publication") == [("run-3",)]
    assert parquet_rows() == expected
    assert [p.name for p in serving.parent.iterdir() if p.name.endswith(".tmp")] == []

    # A reader still has run-2's file (now the standby) open: it is left to the reader, the current file
    # is copied instead, and the reader goes on seeing run-2.
    second_file = standby.stat().st_ino
    reader = subprocess.Popen([sys.executable, "-c", READER, str(standby)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "open"
        con.execute("INSERT INTO marts.fct_orders VALUES ('O6', DATE '2024-04-01', 60.00)")
        publish_marts(con, serving, "run-4", None)
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().split() == ["run-2", "101.00"]
    finally:
        reader.kill()
        reader.wait()
    assert serving.stat().st_ino not in (first_file, second_file)
    assert standby.stat().st_ino == first_file  # run-3's file, for the next publication
    expected = con.execute("SELECT * FROM marts.fct_orders ORDER BY order_id").fetchall()
    assert served(serving, "SELECT * FROM marts.fct_orders ORDER BY order_id") == expected
    assert parquet_rows() == expected


def test_a_standby_that_is_the_current_file_itself_is_never_written(tmp_path):
    """Killed between linking the standby and the swap, the standby is the current file: it is copied."""
    serving = tmp_path / "serving" / "serving.duckdb"
    standby = serving.with_name(f".{serving.name}.standby")
    con = warehouse(tmp_path / "warehouse.duckdb")
    publish_marts(con, serving, "run-1", None)
    os.link(serving, standby)
    con.execute("UPDATE marts.customer_retention SET rate = 0.25")
    publish_marts(con, serving, "run-2", None)
    # The file run-1's readers hold keeps run-1's content; it is the standby now.
    assert served(standby, "SELECT run_id, (SELECT rate FROM marts.customer_retention) FROM marts._publication") \
        == [("run-1", 0.5)]
    assert served(serving, "SELECT rate FROM marts.customer_retention") == [(0.25,)]
