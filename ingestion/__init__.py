"""Source readers and loading into the warehouse's `raw` schema.

- `contract`: the canonical entities and their columns (see DESIGN.md).
- `landing`: CSV / Parquet / JSON Lines files, one folder per entity.
- `database`: tables or queries from any SQLAlchemy database, incremental by watermark.
- `raw`: the raw tables (text as received plus lineage) and the load manifest.
- `demo`: the deterministic demo data generator.
"""
