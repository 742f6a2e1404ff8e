"""The benchmark's breakdown of the timed dbt build (scripts/benchmark_marts.py)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "benchmark_marts.py"


@pytest.fixture(scope="module")
def benchmark():
    """The script as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("benchmark_marts", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def node(unique_id: str, seconds: float) -> dict:
    """One entry of run_results.json's results, with the fields the breakdown reads."""
    return {"unique_id": unique_id, "execution_time": seconds, "status": "success"}


def test_the_slowest_models_come_first_and_the_tests_are_summed(benchmark):
    run_results = {
        "results": [
            node("model.retention.int_as_of_date", 0.4),
            node("model.retention.int_orders", 17.5),
            node("test.retention.unique_fct_orders_order_id.523ddb6ce5", 2.5),
            node("model.retention.int_customer_activity_by_period", 16.25),
            node("test.retention.not_null_fct_orders_order_id.1", 0.25),
            node("model.retention.customer_rfm", 3.5),
            node("seed.retention.rfm_tiers", 9.0),  # neither a model nor a test: left out
        ]
    }

    nodes = benchmark.slowest_dbt_nodes(run_results, models=2)

    assert [(n.name, n.seconds) for n in nodes] == [
        ("int_orders", 17.5),
        ("int_customer_activity_by_period", 16.25),
        ("2 data tests", 2.75),
    ]


def test_a_build_without_run_results_has_no_breakdown(benchmark, tmp_path):
    assert benchmark.read_slowest_dbt_nodes(tmp_path) == ()

    target = tmp_path / "dbt_target"
    target.mkdir()
    (target / "run_results.json").write_text(
        json.dumps({"results": [node("model.retention.fct_orders", 0.5)]}), encoding="utf-8"
    )
    assert [(n.name, n.seconds) for n in benchmark.read_slowest_dbt_nodes(tmp_path)] == [
        ("fct_orders", 0.5),
        ("0 data tests", 0.0),
    ]
