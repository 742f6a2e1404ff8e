"""The dbt marts against the independent pandas implementation on generated demo data.

tests/reference/pandas_marts.py computes every mart from the staging tables
with plain pandas, following METRICS.md; here both run on 1,500 simulated
customers (and once more with an earlier as-of date) and must agree on every
row and column: keys and counts exactly, money to the cent, rates to 1e-9.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ingestion.demo import generate_demo_data
from orchestration.assets.dbt import dbt_build_args
from tests.mart_fixture import dbt, load_raw
from tests.reference.pandas_marts import compute_marts

pytestmark = pytest.mark.slow

MART_KEYS = {
    "fct_orders": ["order_id"],
    "customer_lifetime_value": ["customer_id"],
    "cohort_retention": ["grain", "cohort_period", "period_number"],
    "customer_retention": ["grain", "period_start"],
    "clv_summary": ["dimension", "dimension_value"],
    "customer_rfm": ["customer_id"],
    "survey_scores": ["month", "breakdown", "customer_tier"],
}


@pytest.fixture(scope="module")
def generated_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,500 demo customers loaded into raw (the marts are built per test)."""
    directory = tmp_path_factory.mktemp("generated")
    generate_demo_data(directory / "landing", customers=1500, seed=11)
    warehouse = directory / "warehouse.duckdb"
    load_raw(warehouse, directory / "landing")
    return warehouse


def differences(reference: pd.DataFrame, built: pd.DataFrame, keys: list[str]) -> list[str]:
    """Describe every column in which the two tables disagree (empty when they match)."""
    if len(reference) != len(built):
        return [f"{len(reference)} rows in the reference, {len(built)} in dbt"]
    left = reference.sort_values(keys, na_position="first").reset_index(drop=True)
    right = built[list(reference.columns)].sort_values(keys, na_position="first").reset_index(drop=True)
    found = []
    for column in left.columns:
        x, y = left[column], right[column]
        if pd.api.types.is_float_dtype(x) or pd.api.types.is_float_dtype(y) or column in ("revenue", "net_revenue"):
            x, y = x.astype(float), y.astype(float)
            bad = ~(np.isclose(x, y, rtol=1e-9, atol=1e-6) | (x.isna() & y.isna()))
        else:
            bad = (x.astype(str) != y.astype(str)) & ~(x.isna() & y.isna())
        if bad.any():
            example = left.loc[bad, list(dict.fromkeys([*keys, column]))].head(3).to_dict("records")
            found.append(f"{column}: {int(bad.sum())} rows differ, e.g. {example} vs "
                         f"{right.loc[bad, [column]].head(3).to_dict('records')}")
    return found


@pytest.mark.parametrize("as_of_date", [None, date(2024, 6, 30)], ids=["latest-order", "mid-2024"])
def test_every_mart_matches_the_pandas_reference(generated_warehouse, tmp_path, as_of_date):
    dbt_vars = {"as_of_date": as_of_date.isoformat()} if as_of_date else {}
    result = dbt(dbt_build_args(dbt_vars), generated_warehouse, tmp_path / "target")
    assert result.returncode == 0, result.stdout[-4000:]
    reference = compute_marts(generated_warehouse, as_of_date)
    assert set(reference) == set(MART_KEYS)
    with duckdb.connect(str(generated_warehouse), read_only=True) as con:
        problems = {
            name: differences(frame, con.execute(f"SELECT * FROM marts.{name}").df(), MART_KEYS[name])
            for name, frame in reference.items()
        }
    assert {name: found for name, found in problems.items() if found} == {}
