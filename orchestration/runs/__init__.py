"""Runs of the pipeline: executing one, the one-writer lock, dead runs, and the report each run leaves."""
