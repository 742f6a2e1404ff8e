"""Assets: raw ingestion per source system, and the dbt project."""
