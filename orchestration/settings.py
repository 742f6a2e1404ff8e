"""Where things live, read from environment variables with embedded defaults.

| variable                  | default                          |
|---------------------------|----------------------------------|
| RETENTION_DATA_DIR        | <project>/data                   |
| RETENTION_WAREHOUSE       | $RETENTION_DATA_DIR/warehouse.duckdb |
| RETENTION_LANDING_DIR     | $RETENTION_DATA_DIR/landing      |
| RETENTION_SOURCES_FILE    | <project>/sources.yml (if present) |
| RETENTION_AS_OF_DATE      | unset: latest completed order date |
| RETENTION_REPORTING_CURRENCY | unset: the one currency all orders are in (ISO 4217 code, e.g. EUR) |
| RETENTION_DUCKDB_MEMORY_LIMIT | 3GB: the cap on DuckDB's buffers in every step and in dbt (it spills to disk beyond it) |
| RETENTION_MAX_BAD_SHARE   | 0.01: a file with more than 1% rows breaking raw rules is refused |
| RETENTION_CLV_HORIZON_MONTHS, RETENTION_CLV_MARGIN, RETENTION_CLV_DISCOUNT_RATE, RETENTION_HOLDOUT_WEEKS | 12, 1.0, 0.10, 26 |
| RETENTION_REFIT_DAYS      | 7: fit BG/NBD and Gamma-Gamma again once T is this many days past the last fit (0: every run) |
| RETENTION_LOCK_WAIT_SECONDS | 900: how long a run waits for another run of the same warehouse |
| RETENTION_PII_KEY         | unset: only the generated demo data runs (with the published demo key) |
| RETENTION_PUBLISH_CONTACTS | false: customers' names stay in the warehouse (true: a restricted serving file) |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from orchestration.runs.lock import DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS

# DuckDB's buffers in every connection of a run and in dbt: with the Python processes around them, a run on
# ten million orders stays under 4 GiB (DuckDB spills to disk beyond it; its own default is 80% of RAM).
DEFAULT_DUCKDB_MEMORY_LIMIT = "3GB"
# The predictive models are fitted again once the as-of date is this many days past their last fit
# (orchestration/assets/predictive.py); between fits, runs score customers with the last fit's parameters.
DEFAULT_REFIT_DAYS = 7

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


@dataclass(frozen=True)
class Settings:
    """The paths and options of one deployment."""

    data_dir: Path
    warehouse_path: Path
    landing_dir: Path
    sources_file: Path | None
    as_of_date: str | None
    duckdb_memory_limit: str
    # RETENTION_REPORTING_CURRENCY: None = the one currency every order is in (dbt var reporting_currency).
    reporting_currency: str | None = None
    max_bad_share: float = 0.01
    clv_horizon_months: int = 12
    clv_margin: float = 1.0
    clv_annual_discount_rate: float = 0.10
    holdout_weeks: int = 26
    refit_days: int = DEFAULT_REFIT_DAYS
    lock_wait_seconds: float = DEFAULT_WAIT_SECONDS
    # RETENTION_PII_KEY: the secret of the keyed pseudonyms (ingestion/pii.py); never printed.
    pii_key: str | None = field(default=None, repr=False)
    # RETENTION_PUBLISH_CONTACTS: also publish the customers' names (restricted.customer_contacts).
    publish_contacts: bool = False
    # `retention run --full-refresh` (per run, not from the environment): rebuild quarantine and models whole.
    full_refresh: bool = False

    @property
    def serving_path(self) -> Path:
        """The published marts (serving DuckDB file); Parquet copies in parquet/current beside it."""
        # Named so that its catalog ("serving") never shadows the schema "marts" inside it.
        return self.data_dir / "serving" / "serving.duckdb"

    @property
    def contacts_path(self) -> Path:
        """The restricted serving file with the customers' names, in a folder only its owner can open."""
        return self.data_dir / "serving" / "restricted" / "contacts.duckdb"

    @property
    def report_path(self) -> Path:
        """The static HTML retention report, rebuilt after every publication."""
        return self.data_dir / "report" / "retention_report.html"

    @property
    def run_report_path(self) -> Path:
        """The report of the latest run (outcome, failures, warehouse summary) that `retention status` prints."""
        return self.data_dir / "runs" / "latest.json"

    @property
    def landed_record_path(self) -> Path:
        """What the manifest has loaded (path -> content hash), written by every run for the new-file sensor,
        which cannot open the warehouse while a run writes it."""
        return self.data_dir / "runs" / "landed.json"

    @property
    def data_docs_dir(self) -> Path:
        """Where the Great Expectations Data Docs of the checks are written."""
        return self.data_dir / "data_docs"

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings from the environment, with the embedded defaults."""
        data_dir = Path(os.environ.get("RETENTION_DATA_DIR", PROJECT_ROOT / "data")).resolve()
        sources = os.environ.get("RETENTION_SOURCES_FILE")
        default_sources = PROJECT_ROOT / "sources.yml"
        as_of = os.environ.get("RETENTION_AS_OF_DATE") or None
        if as_of is not None:
            validated_as_of_date(as_of)
        return cls(
            data_dir=data_dir,
            warehouse_path=Path(os.environ.get("RETENTION_WAREHOUSE", data_dir / "warehouse.duckdb")).resolve(),
            landing_dir=Path(os.environ.get("RETENTION_LANDING_DIR", data_dir / "landing")).resolve(),
            sources_file=Path(sources).resolve() if sources else (default_sources if default_sources.exists() else None),
            as_of_date=as_of,
            reporting_currency=validated_currency(os.environ.get("RETENTION_REPORTING_CURRENCY") or None),
            duckdb_memory_limit=os.environ.get("RETENTION_DUCKDB_MEMORY_LIMIT") or DEFAULT_DUCKDB_MEMORY_LIMIT,
            max_bad_share=validated_share(os.environ.get("RETENTION_MAX_BAD_SHARE") or "0.01"),
            clv_horizon_months=int(os.environ.get("RETENTION_CLV_HORIZON_MONTHS") or 12),
            clv_margin=float(os.environ.get("RETENTION_CLV_MARGIN") or 1.0),
            clv_annual_discount_rate=float(os.environ.get("RETENTION_CLV_DISCOUNT_RATE") or 0.10),
            holdout_weeks=int(os.environ.get("RETENTION_HOLDOUT_WEEKS") or 26),
            refit_days=validated_refit_days(os.environ.get("RETENTION_REFIT_DAYS")),
            lock_wait_seconds=validated_seconds(os.environ.get("RETENTION_LOCK_WAIT_SECONDS"), DEFAULT_WAIT_SECONDS),
            pii_key=os.environ.get("RETENTION_PII_KEY") or None,
            publish_contacts=validated_flag("RETENTION_PUBLISH_CONTACTS", os.environ.get("RETENTION_PUBLISH_CONTACTS")),
        )


def validated_as_of_date(text: str) -> str:
    """Return `text` if it is a YYYY-MM-DD date, else raise a ValueError that says so."""
    try:
        date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"as-of date {text!r} is not a date in the form YYYY-MM-DD") from None
    return text


def validated_currency(text: str | None) -> str | None:
    """Return an ISO 4217 code in upper case (None stays None), else raise a ValueError that says so."""
    if text is None:
        return None
    code = text.strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValueError(f"reporting currency {text!r} is not a three-letter ISO 4217 code (e.g. EUR, USD, CNY)")
    return code


def validated_share(text: str) -> float:
    """Return `text` as a share between 0 and 1, else raise a ValueError that says so."""
    try:
        share = float(text)
    except ValueError:
        share = -1.0
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"RETENTION_MAX_BAD_SHARE={text!r} is not a share between 0 and 1 (e.g. 0.01 for 1%)")
    return share


def validated_seconds(text: str | None, default: float) -> float:
    """Return `text` as a number of seconds (0 or more), `default` when unset, else raise a ValueError."""
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    # No wait may be unbounded: infinity and NaN are refused, and a day is the most.
    if not 0 <= seconds <= MAX_WAIT_SECONDS:
        raise ValueError(f"RETENTION_LOCK_WAIT_SECONDS={text!r} is not a number of seconds from 0 to "
                         f"{MAX_WAIT_SECONDS:.0f} (e.g. 900; 0 = do not wait)")
    return seconds


def validated_flag(name: str, text: str | None) -> bool:
    """Return a yes/no environment variable as a bool (unset: no), else raise a ValueError that says so."""
    value = (text or "false").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{name}={text!r} is neither true nor false")


def validated_refit_days(value: str | None) -> int:
    """RETENTION_REFIT_DAYS as a whole number of days, at least 0 (default DEFAULT_REFIT_DAYS)."""
    if value is None or not value.strip():
        return DEFAULT_REFIT_DAYS
    try:
        days = int(value)
    except ValueError:
        days = -1
    if days < 0:
        raise ValueError(f"RETENTION_REFIT_DAYS must be a whole number of days, 0 or more, not {value!r}")
    return days
