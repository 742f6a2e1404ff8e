"""The CDNOW sample (2,357 customers) as the BG/NBD and Gamma-Gamma papers use it, for validation.

The data ships inside the `lifetimes` wheel (a test-only dependency); it is
read from there, never copied into this repository. Setup of the papers:
weekly units, transactions on the same day combined, calibration period
1997-01-01 to 1997-09-30 (39 weeks), T = days from the first purchase to
1997-09-30 / 7; spend = the average value of the repeat transactions.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from orchestration.predictive.bgnbd import RepeatPurchases

CALIBRATION_END = "1997-09-30"
# Published estimates: Fader, Hardie and Lee (2005), "Counting your customers the easy way", table 1
# (log-likelihood -9582.4), and "RFM and CLV" (2005), Gamma-Gamma on the same calibration data.
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_BGNBD_LOG_LIKELIHOOD = -9582.4
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def cdnow_sample_path() -> Path:
    """Where the lifetimes package keeps CDNOW_sample.txt (found without importing lifetimes)."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the CDNOW data comes with the `lifetimes` package: pip install lifetimes==0.11.3 "
                                "(scripts/bootstrap installs it with the dev extras)")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "CDNOW_sample.txt"


@dataclass(frozen=True)
class CalibrationData:
    """Per customer of the sample: the repeat-purchase summary and the average repeat spend."""

    purchases: RepeatPurchases
    average_repeat_value: np.ndarray  # NaN for customers without repeat purchases


def calibration_data(path: Path | None = None) -> CalibrationData:
    """Summarise the CDNOW sample over the calibration period, in DuckDB."""
    path = path or cdnow_sample_path()
    with duckdb.connect() as con:
        rows = con.execute(f"""
            WITH lines AS (
                SELECT string_split_regex(trim(line), '\\s+') AS f
                FROM read_csv(?, columns = {{'line': 'VARCHAR'}}, header = false, delim = '\\0')
            ),
            days AS (
                SELECT CAST(f[2] AS INTEGER) AS customer, strptime(f[3], '%Y%m%d')::DATE AS day,
                       sum(CAST(f[5] AS DOUBLE)) AS value
                FROM lines GROUP BY ALL
            ),
            calibration AS (
                SELECT *, min(day) OVER (PARTITION BY customer) AS first_day
                FROM days WHERE day <= DATE '{CALIBRATION_END}'
            )
            SELECT customer,
                   count(*) - 1 AS frequency,
                   (max(day) - first_day) / 7.0 AS recency,
                   (DATE '{CALIBRATION_END}' - first_day) / 7.0 AS age,
                   CASE WHEN count(*) > 1 THEN (sum(value) - arg_min(value, day)) / (count(*) - 1) END
            FROM calibration GROUP BY customer, first_day ORDER BY customer
        """, [str(path)]).fetchall()
    _, x, t_x, age, spend = (np.array(column, dtype=float) for column in zip(*rows, strict=True))
    return CalibrationData(RepeatPurchases(x, t_x, age), spend)
