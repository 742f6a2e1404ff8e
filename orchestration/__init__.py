"""Dagster orchestration: one Definitions object built from small modules."""
