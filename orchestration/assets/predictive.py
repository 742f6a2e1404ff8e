"""Predictive CLV: BG/NBD and Gamma-Gamma fitted on the order fact, predictions written to marts.

Reads the repeat-purchase summaries from DuckDB (orchestration/predictive/summaries.py), fits the
models in numpy/scipy, and writes back:

- marts.customer_predictions: per customer P(alive), expected purchases and spend over the
  horizon, predicted CLV;
- marts.predictive_model_fit: the parameters, log-likelihood and convergence of each fit;
- marts.predictive_holdout_tracking, _by_frequency and _accuracy: the models fitted again on
  the data before a holdout period, predicted against actual repeat purchases (the tracking
  curve per holdout week, means per calibration frequency, and the mean absolute error).

With fewer than MIN_REPEAT_CUSTOMERS customers who bought twice there is nothing to fit: the
tables are written empty and the metadata says why. A fit that does not converge fails the step.

A daily run does not fit again: it scores every customer with the last fit's parameters (kept in
marts.predictive_model_fit with the T they were fitted at), and the fit tables and the holdout check
stay those of that fit; see `refit_reason` for when the models are fitted again. On a refit day the
predictions equal those of a full rebuild; in between they differ only by the parameters' drift over
less than RETENTION_REFIT_DAYS of data.
"""


import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg
import duckdb
import numpy as np
import pyarrow as pa

from orchestration.assets.model_state import code_fingerprint
from orchestration.predictive import bgnbd, gamma_gamma
from orchestration.predictive.clv import ClvSettings, predict, tracking_curve
from orchestration.predictive.fitting import ConvergenceError, Fit
from orchestration.predictive.summaries import (
    CustomerSummaries,
    customer_summaries,
    summaries_at_as_of_date,
    grouped_for_fitting,
    holdout_actuals,
)
from orchestration.resources.dbt import RetentionDbtCliResource
from orchestration.resources.marts import MartSettings
from orchestration.resources.predictions import PredictionSettings
from orchestration.resources.warehouse import DuckDBWarehouse

MIN_REPEAT_CUSTOMERS = 50
FREQUENCY_BUCKETS = 7  # calibration frequencies 0..6 and "7+"


def fit_rows(name: str, fit: Fit, customers: int, fitted_as_of: date, inputs: str) -> list[dict]:
    """Rows of marts.predictive_model_fit for one fit."""
    return [{"model": name, "parameter": key, "value": value, "log_likelihood": fit.log_likelihood,
             "customers": customers, "iterations": fit.iterations, "converged": fit.converged,
             "fitted_as_of": fitted_as_of, "fit_inputs": inputs}
            for key, value in fit.params.items()]


def write_table(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, object], schema: pa.Schema) -> None:
    """Replace marts.<name> with the given columns (Arrow, no row loop)."""
    con.register("new_rows", pa.table(columns, schema=schema))
    try:
        con.execute(f"CREATE OR REPLACE TABLE marts.{name} AS SELECT * FROM new_rows")
    finally:
        con.unregister("new_rows")


PREDICTION_SCHEMA = pa.schema([
    ("customer_id", pa.string()), ("frequency", pa.int64()), ("recency_weeks", pa.float64()),
    ("age_weeks", pa.float64()), ("p_alive", pa.float64()), ("expected_purchases", pa.float64()),
    ("expected_average_order_value", pa.float64()), ("predicted_clv", pa.float64()),
])
FIT_SCHEMA = pa.schema([
    ("model", pa.string()), ("parameter", pa.string()), ("value", pa.float64()), ("log_likelihood", pa.float64()),
    ("customers", pa.int64()), ("iterations", pa.int64()), ("converged", pa.bool_()),
    ("fitted_as_of", pa.date32()), ("fit_inputs", pa.string()),
])
TRACKING_SCHEMA = pa.schema([
    ("holdout_week", pa.int64()), ("predicted_cumulative_repeat_purchases", pa.float64()),
    ("actual_cumulative_repeat_purchases", pa.float64()),
])
ACCURACY_SCHEMA = pa.schema([
    ("calibration_end", pa.date32()), ("holdout_weeks", pa.int64()), ("customers", pa.int64()),
    ("mean_absolute_error", pa.float64()), ("predicted_repeat_purchases", pa.float64()),
    ("actual_repeat_purchases", pa.float64()),
])
BY_FREQUENCY_SCHEMA = pa.schema([
    ("calibration_frequency", pa.string()), ("customers", pa.int64()),
    ("predicted_repeat_purchases", pa.float64()), ("actual_repeat_purchases", pa.float64()),
])


TABLE_SCHEMAS = {
    "customer_predictions": PREDICTION_SCHEMA,
    "predictive_model_fit": FIT_SCHEMA,
    "predictive_holdout_tracking": TRACKING_SCHEMA,
    "predictive_holdout_by_frequency": BY_FREQUENCY_SCHEMA,
    "predictive_holdout_accuracy": ACCURACY_SCHEMA,
}


def write_empty_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every table of the asset, empty: what the marts read when nothing could be fitted."""
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    for name, schema in TABLE_SCHEMAS.items():
        write_table(con, name, {column: [] for column in schema.names}, schema)


def fit_both(summaries: CustomerSummaries) -> tuple[Fit, Fit]:
    """BG/NBD on every customer, Gamma-Gamma on the repeat buyers."""
    bg = bgnbd.fit(grouped_for_fitting(summaries))
    repeat = summaries.purchases.frequency > 0
    gg = gamma_gamma.fit(summaries.purchases.frequency[repeat], summaries.average_repeat_value[repeat])
    return bg, gg


@dataclass(frozen=True)
class StoredFit:
    """The parameters of the last fit, as marts.predictive_model_fit keeps them, and what it was fitted on."""

    bgnbd: dict[str, float]
    gamma_gamma: dict[str, float]
    fitted_as_of: date
    customers: int
    holdout_weeks: int
    inputs: str  # fit_inputs of the fit: what besides the orders it depends on


def stored_fit(con: duckdb.DuckDBPyConnection) -> StoredFit | None:
    """The last fit (None when there is none, or it predates the fitted_as_of column)."""
    columns = {name for (name,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' AND table_name = 'predictive_model_fit'"
    ).fetchall()}
    if "fit_inputs" not in columns:
        return None
    rows = con.execute("SELECT model, parameter, value, customers, fitted_as_of, fit_inputs "
                       "FROM marts.predictive_model_fit").fetchall()
    # fetchall, not fetchone: a result left unfinished makes DuckDB refuse the Arrow registration that follows.
    (holdout,) = con.execute("SELECT max(holdout_weeks) FROM marts.predictive_holdout_accuracy").fetchall()
    params = {model: {name: value for m, name, value, *_ in rows if m == model} for model in ("bgnbd", "gamma_gamma")}
    if not rows or not all(params.values()) or holdout is None or holdout[0] is None:
        return None
    customers = max(count for model, _, _, count, *_ in rows if model == "bgnbd")
    return StoredFit(params["bgnbd"], params["gamma_gamma"], rows[0][4], customers, int(holdout[0]), rows[0][5])


def fit_inputs(con: duckdb.DuckDBPyConnection, dbt: RetentionDbtCliResource, mart_settings: MartSettings) -> str:
    """A hash of what the fit depends on besides the orders: the reporting currency the amounts are in
    (Gamma-Gamma's scale is money), the dbt definitions (seeds such as fx_rates, vars) and the code."""
    (currency,) = con.execute("SELECT reporting_currency FROM intermediate.int_reporting_currency").fetchall()[0]
    parts = [currency, dbt.definitions_fingerprint(mart_settings.dbt_vars()), code_fingerprint()]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


# The share by which the customers may grow (or shrink) before the models are fitted again anyway.
REFIT_CUSTOMER_CHANGE = 0.05


def refit_reason(previous: StoredFit | None, as_of: date, customers: int, holdout_weeks: int, refit_days: int,
                 full_refresh: bool, inputs: str) -> str | None:
    """Why the models must be fitted again this run, in words; None when the last fit still serves.

    A daily run scores every customer with the last fit's parameters, which a
    day more of data barely moves; the fit (and its holdout check) is redone
    once T is `refit_days` past it, when T moved back, when the customers
    changed by more than REFIT_CUSTOMER_CHANGE, when the holdout length
    changed, when the fit's other inputs changed (`fit_inputs`: the reporting
    currency, the dbt definitions, the code), on --full-refresh, and when
    there is no fit yet.
    """
    if full_refresh:
        return "full refresh"
    if previous is None:
        return "no earlier fit"
    if as_of < previous.fitted_as_of:
        return f"T ({as_of}) is before the last fit's ({previous.fitted_as_of})"
    if (as_of - previous.fitted_as_of).days >= refit_days:
        return f"T is {(as_of - previous.fitted_as_of).days} days past the last fit (RETENTION_REFIT_DAYS={refit_days})"
    if abs(customers - previous.customers) > REFIT_CUSTOMER_CHANGE * previous.customers:
        return f"{customers:,} customers against {previous.customers:,} at the last fit"
    if holdout_weeks != previous.holdout_weeks:
        return f"holdout of {holdout_weeks} weeks against {previous.holdout_weeks} at the last fit"
    if inputs != previous.inputs:
        return "the reporting currency, the dbt definitions or the code changed since the last fit"
    return None


@dg.asset(
    key=["marts", "customer_predictions"],
    group_name="marts",
    kinds={"duckdb", "python"},
    deps=[dg.AssetKey(["intermediate", "int_orders"]), dg.AssetKey(["intermediate", "int_customer_orders"]),
          dg.AssetKey(["intermediate", "int_as_of_date"])],
    description="BG/NBD (P(alive), expected purchases) and Gamma-Gamma (expected spend) fitted by maximum "
                "likelihood on weekly repeat-purchase summaries as of T; predicted CLV over the horizon, discounted "
                "monthly; a holdout check of the models. Fitted again once T is RETENTION_REFIT_DAYS (7) past the "
                "last fit; between fits every customer is scored with the last fit's parameters. See "
                "orchestration/assets/predictive.py.",
)
def customer_predictions(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse,
                         prediction_settings: PredictionSettings, mart_settings: MartSettings,
                         dbt: RetentionDbtCliResource) -> dg.MaterializeResult:
    settings = prediction_settings.clv_settings()
    with warehouse.connect() as con:
        (as_of,) = con.execute("SELECT as_of_date FROM intermediate.int_as_of_date").fetchone()
        summaries = summaries_at_as_of_date(con, as_of)
        repeat_customers = int(np.sum(summaries.purchases.frequency > 0))
        if repeat_customers < MIN_REPEAT_CUSTOMERS:
            reason = (f"not fitted: {repeat_customers} customers with repeat purchases, "
                      f"at least {MIN_REPEAT_CUSTOMERS} needed")
            context.log.warning(reason)
            write_empty_tables(con)
            return dg.MaterializeResult(metadata={"status": reason})
        p = summaries.purchases
        previous = stored_fit(con)
        inputs = fit_inputs(con, dbt, mart_settings)
        why = refit_reason(previous, as_of, len(p.frequency), settings.holdout_weeks, prediction_settings.refit_days,
                           mart_settings.full_refresh, inputs)
        try:
            if why is None:
                bg_params, gg_params, fitted_as_of = previous.bgnbd, previous.gamma_gamma, previous.fitted_as_of
            else:
                bg, gg = fit_both(summaries)
                bg_params, gg_params, fitted_as_of = bg.params, gg.params, as_of
                holdout = holdout_check(con, as_of, settings)
            predictions = predict(bg_params, gg_params, p, summaries.average_repeat_value, settings)
        except ConvergenceError as err:
            raise dg.Failure(description=f"predictive CLV: {err}") from None
        write_table(con, "customer_predictions", {
            "customer_id": summaries.customer_id, "frequency": p.frequency.astype(np.int64), "recency_weeks": p.recency,
            "age_weeks": p.age, "p_alive": predictions.p_alive, "expected_purchases": predictions.expected_purchases,
            "expected_average_order_value": predictions.expected_average_value,
            "predicted_clv": predictions.predicted_clv,
        }, PREDICTION_SCHEMA)
        if why is not None:
            rows = (fit_rows("bgnbd", bg, len(p.frequency), as_of, inputs)
                    + fit_rows("gamma_gamma", gg, repeat_customers, as_of, inputs))
            write_table(con, "predictive_model_fit", {n: [r[n] for r in rows] for n in FIT_SCHEMA.names}, FIT_SCHEMA)
            write_table(con, "predictive_holdout_tracking", holdout["tracking"], TRACKING_SCHEMA)
            write_table(con, "predictive_holdout_by_frequency", holdout["by_frequency"], BY_FREQUENCY_SCHEMA)
            write_table(con, "predictive_holdout_accuracy", holdout["accuracy"], ACCURACY_SCHEMA)
            context.log.info(f"fitted BG/NBD and Gamma-Gamma ({why})")
        else:
            context.log.info(f"scored {len(p.frequency):,} customers with the fit of {fitted_as_of} "
                             f"(fitted again once T is {prediction_settings.refit_days} days past it)")
    return dg.MaterializeResult(metadata={
        "customers": len(p.frequency),
        "refit": why or "no: the last fit serves",
        "fitted as of": str(fitted_as_of),
        "bgnbd": dg.MetadataValue.json({k: round(v, 4) for k, v in bg_params.items()}),
        "gamma_gamma": dg.MetadataValue.json({k: round(v, 4) for k, v in gg_params.items()}),
        **({"holdout MAE (repeat purchases per customer)": holdout["mae"]} if why is not None else {}),
        "holdout weeks": settings.holdout_weeks,
        "predicted CLV total": float(np.sum(predictions.predicted_clv)),
    })


def holdout_check(con: duckdb.DuckDBPyConnection, as_of, settings: ClvSettings) -> dict:
    """Fit on the data up to T - holdout, predict the holdout, compare with what happened."""
    calibration_end = as_of - timedelta(weeks=settings.holdout_weeks)
    calibration = customer_summaries(con, calibration_end)
    bg, _ = fit_both(calibration)
    actual = holdout_actuals(con, calibration_end, as_of)
    predicted = bgnbd.expected_purchases(bg.params, calibration.purchases, float(settings.holdout_weeks))
    if not np.array_equal(actual["customer_id"], calibration.customer_id):  # both sorted by customer_id
        raise RuntimeError("holdout check: the calibrated customers and their holdout purchases do not line up")
    weeks = np.arange(1, settings.holdout_weeks + 1)
    by_week = np.zeros(settings.holdout_weeks)
    inside = (actual["week"] >= 1) & (actual["week"] <= settings.holdout_weeks)
    by_week[actual["week"][inside] - 1] = actual["week_purchases"][inside]
    bucket = np.minimum(calibration.purchases.frequency, FREQUENCY_BUCKETS).astype(int)
    labels = [str(b) if b < FREQUENCY_BUCKETS else f"{FREQUENCY_BUCKETS}+" for b in range(FREQUENCY_BUCKETS + 1)]
    present = [b for b in range(FREQUENCY_BUCKETS + 1) if np.any(bucket == b)]
    mae = float(np.mean(np.abs(predicted - actual["purchases"])))
    return {
        "mae": mae,
        "accuracy": {"calibration_end": [calibration_end], "holdout_weeks": [settings.holdout_weeks],
                     "customers": [len(predicted)], "mean_absolute_error": [mae],
                     "predicted_repeat_purchases": [float(np.sum(predicted))],
                     "actual_repeat_purchases": [float(np.sum(actual["purchases"]))]},
        "tracking": {
            "holdout_week": weeks,
            "predicted_cumulative_repeat_purchases": tracking_curve(
                bg.params, grouped_for_fitting(calibration), settings.holdout_weeks),
            "actual_cumulative_repeat_purchases": np.cumsum(by_week),
        },
        "by_frequency": {
            "calibration_frequency": [labels[b] for b in present],
            "customers": [int(np.sum(bucket == b)) for b in present],
            "predicted_repeat_purchases": [float(np.mean(predicted[bucket == b])) for b in present],
            "actual_repeat_purchases": [float(np.mean(actual["purchases"][bucket == b])) for b in present],
        },
    }
