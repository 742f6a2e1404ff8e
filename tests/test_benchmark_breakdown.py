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


@pytest.fixture(scope="module")
def pipeline_benchmark():
    """scripts/benchmark_pipeline.py as a module."""
    sys.path.insert(0, str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("benchmark_pipeline", SCRIPT.parent / "benchmark_pipeline.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_pipeline_steps_are_summed_per_layer_and_the_rest_is_outside_the_steps(pipeline_benchmark):
    steps = {
        "raw__orders": 2.0, "raw__customers": 1.0, "raw__orders_raw_rules": 0.5,
        "quarantine__orders": 1.5, "quarantine__orders_bad_share_within_limit": 0.25,
        "dbt_staging": 4.0, "staging__stg_orders__orders_staging_rules": 0.75,
        "staging__stg_orders__orders_reconciles_with_raw": 0.25,
        "dbt_marts": 6.0, "marts__fct_orders_mart_rules": 1.0,
        "marts__customer_predictions": 3.0, "dbt_customer_360": 2.0,
        "serving__marts": 1.0, "report__retention_report": 0.5,
    }
    layers = pipeline_benchmark.seconds_by_layer(steps, wall=30.0)
    assert layers == {
        "raw loading": 3.0, "raw rule checks (GX)": 0.5, "quarantine": 1.75, "dbt staging": 4.0,
        "staging checks": 1.0, "dbt marts + mart checks": 7.0, "predictions, customer 360": 5.0,
        "publishing, report": 1.5, "outside steps (start, lock, report)": 30.0 - 23.75,
    }
    assert pipeline_benchmark.layer_of("something_new") == "other steps"


def test_peak_memory_is_taken_per_layer_from_the_samples_inside_its_steps(pipeline_benchmark):
    windows = {"raw__orders": (10.0, 20.0), "dbt_staging": (20.0, 30.0), "dbt_marts": (30.0, 40.0)}
    samples = [(5.0, 900), (12.0, 100), (19.0, 300), (25.0, 250), (31.0, 50), (45.0, 999)]
    assert pipeline_benchmark.peak_by_layer(windows, samples) == {
        "raw loading": 300, "dbt staging": 250, "dbt marts + mart checks": 50}
