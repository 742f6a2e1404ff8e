"""Readers of the published marts cannot reach the disk: not through `retention sql`, not through the README's
BI connection URL. Each probe of a hostile but fair user is tried, and its exact outcome asserted."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.serving.readers import reader_url

PERMISSION = "Permission Error: Cannot access file"


def probes(settings) -> dict[str, str]:
    """Statements a reader might try, each aimed at a file it must not touch."""
    data = settings.data_dir
    return {
        "copy out": f"COPY (SELECT * FROM marts.dim_customers) TO '{data}/stolen.csv'",
        "read a system file": "SELECT * FROM read_csv('/etc/passwd')",
        "read text": "SELECT * FROM read_text('/etc/passwd')",
        "attach the warehouse": f"ATTACH '{settings.warehouse_path}' AS wh (READ_ONLY)",
        "plant a landing file": f"COPY (SELECT 'O1' AS order_id) TO '{settings.landing_dir}/orders/evil.csv'",
        "overwrite the report": f"COPY (SELECT 1) TO '{settings.report_path}'",
        "overwrite the serving file": f"COPY (SELECT 'x') TO '{settings.serving_path}' (FORMAT csv)",
        "list files": "SELECT * FROM glob('/etc/*')",
        "switch access back on": "SET enable_external_access = true",
        "install an extension": "INSTALL httpfs",
    }


def untouched(settings, serving_bytes: bytes, report_bytes: bytes) -> None:
    assert not (settings.data_dir / "stolen.csv").exists()
    assert not (settings.landing_dir / "orders" / "evil.csv").exists()
    assert settings.serving_path.read_bytes() == serving_bytes
    assert settings.report_path.read_bytes() == report_bytes


def test_retention_sql_runs_one_query_confined_to_the_serving_file(settings, tiny_run):
    serving_bytes, report_bytes = settings.serving_path.read_bytes(), settings.report_path.read_bytes()
    runner = CliRunner()
    not_a_query = {"copy out", "attach the warehouse", "plant a landing file", "overwrite the report",
                   "overwrite the serving file", "switch access back on", "install an extension"}
    kinds = {"copy out": "COPY", "attach the warehouse": "ATTACH", "plant a landing file": "COPY",
             "overwrite the report": "COPY", "overwrite the serving file": "COPY", "switch access back on": "SET",
             "install an extension": "INSTALL or LOAD"}
    for name, statement in probes(settings).items():
        result = runner.invoke(main, ["sql", statement])
        assert result.exit_code == 2, (name, result.output)
        if name in not_a_query:
            assert result.output == (f"error: only queries (SELECT ...) run on the published marts, "
                                     f"not {kinds[name]} statements\n"), name
        else:
            assert result.output.startswith(f"error: the query failed: {PERMISSION}"), (name, result.output)
    several = runner.invoke(main, ["sql", "SELECT 1; SELECT * FROM marts.dim_customers"])
    assert several.output == "error: one query at a time, please: this text holds 2 statements\n"
    # A query can still read every published mart.
    fine = runner.invoke(main, ["sql", "SELECT count(*) AS customers FROM marts.dim_customers"])
    assert fine.exit_code == 0 and fine.output.splitlines()[2] == "6"
    untouched(settings, serving_bytes, report_bytes)


def test_the_readme_bi_url_refuses_the_same(settings, tiny_run):
    serving_bytes, report_bytes = settings.serving_path.read_bytes(), settings.report_path.read_bytes()
    url = reader_url(settings.serving_path)
    assert url == (f"duckdb:///{settings.serving_path}?access_mode=read_only&enable_external_access=false"
                   "&autoload_known_extensions=false&autoinstall_known_extensions=false"
                   "&allow_community_extensions=false&lock_configuration=true")
    engine = sa.create_engine(url)
    outcomes = {}
    for name, statement in probes(settings).items():
        with engine.connect() as conn:
            try:
                conn.execute(sa.text(statement)).fetchall()
                outcomes[name] = "ran"
            except sa.exc.DBAPIError as err:
                outcomes[name] = str(err.orig).splitlines()[0]
    assert all(outcome != "ran" for outcome in outcomes.values()), outcomes
    for name in ("copy out", "read a system file", "read text", "attach the warehouse", "plant a landing file",
                 "overwrite the report", "overwrite the serving file", "list files"):
        assert outcomes[name].startswith(PERMISSION), (name, outcomes[name])
    assert outcomes["switch access back on"].startswith("Invalid Input Error: Cannot change configuration option")
    assert outcomes["install an extension"].startswith("Permission Error: Cannot access directory")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM marts.dim_customers")).scalar() == 6
    engine.dispose()
    untouched(settings, serving_bytes, report_bytes)


@pytest.mark.parametrize("path_in_readme", ["duckdb:////abs/path/to/data/serving/serving.duckdb?access_mode=read_only"
                                            "&enable_external_access=false&autoload_known_extensions=false"
                                            "&autoinstall_known_extensions=false&allow_community_extensions=false"
                                            "&lock_configuration=true"])
def test_the_readme_gives_that_url(path_in_readme):
    from orchestration.settings import PROJECT_ROOT

    assert path_in_readme in (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
