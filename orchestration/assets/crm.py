"""CRM source: customers and their interactions."""

from ingestion.contract import CUSTOMERS, INTERACTIONS
from orchestration.assets.raw_ingestion import build_raw_asset

raw_customers = build_raw_asset(CUSTOMERS)
raw_interactions = build_raw_asset(INTERACTIONS)
