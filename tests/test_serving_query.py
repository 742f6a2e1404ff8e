"""`retention sql`: a query on the published marts, printed as a table or CSV, read-only."""

from __future__ import annotations

import duckdb
from click.testing import CliRunner

from orchestration.cli import main


def write_serving(settings) -> None:
    settings.serving_path.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.serving_path)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.customer_rfm AS SELECT * FROM (VALUES "
                    "('C1', 5, 'high_value', '高价值客户'), ('C2', NULL, 'churn_risk', '流失风险客户')) "
                    "AS t(customer_id, r_score, customer_tier, customer_tier_zh)")


def test_sql_prints_a_table_and_csv(settings):
    write_serving(settings)
    runner = CliRunner()
    table = runner.invoke(main, ["sql", "SELECT * FROM marts.customer_rfm ORDER BY customer_id"])
    assert table.exit_code == 0, table.output
    assert table.output.splitlines() == [
        "customer_id  r_score  customer_tier  customer_tier_zh",
        "-----------  -------  -------------  ----------------",
        "C1           5        high_value     高价值客户",
        "C2                    churn_risk     流失风险客户",
        "(2 rows)",
    ]
    as_csv = runner.invoke(main, ["sql", "--csv", "SELECT customer_id, r_score FROM marts.customer_rfm ORDER BY 1"])
    assert as_csv.output == "customer_id,r_score\nC1,5\nC2,\n"
    limited = runner.invoke(main, ["sql", "--max-rows", "1", "SELECT customer_id FROM marts.customer_rfm ORDER BY 1"])
    assert limited.output.splitlines()[-1] == "(2 rows (first 1 shown; --max-rows or --csv for all))"


def test_sql_is_read_only_and_errors_are_one_line(settings):
    write_serving(settings)
    runner = CliRunner()
    refused = runner.invoke(main, ["sql", "DROP TABLE marts.customer_rfm"])
    assert refused.exit_code == 2
    assert refused.output == "error: only queries (SELECT ...) run on the published marts, not DROP statements\n"
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.customer_rfm").fetchone() == (2,)
    settings.serving_path.unlink()
    missing = runner.invoke(main, ["sql", "SELECT 1"])
    assert missing.exit_code == 2 and "no published marts at " in missing.output


def test_status_names_the_quality_report_without_importing_great_expectations(settings):
    import os
    import subprocess
    import sys

    write_serving(settings)
    settings.data_docs_dir.mkdir(parents=True)
    (settings.data_docs_dir / "index.html").write_text("<html></html>", encoding="utf-8")
    # A reader's command: Great Expectations (3-7 s to import) is for the checks, not for a path.
    probe = ("import sys; from click.testing import CliRunner; from orchestration.cli import main; "
             "result = CliRunner().invoke(main, ['status']); print(result.output); "
             "print('gx imported:', 'great_expectations' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], env=dict(os.environ), capture_output=True, text=True,
                          timeout=120)
    lines = done.stdout.splitlines()
    assert f"quality report   {settings.data_docs_dir / 'index.html'}  (Great Expectations Data Docs)" in lines
    assert lines[-1] == "gx imported: False"
