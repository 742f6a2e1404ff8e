"""Survey source: NPS and CSAT responses."""

from ingestion.contract import SURVEY_RESPONSES
from orchestration.assets.raw_ingestion import build_raw_asset

raw_survey_responses = build_raw_asset(SURVEY_RESPONSES)
