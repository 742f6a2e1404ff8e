"""The warehouse's `raw` schema: source text as received, plus lineage and a load manifest."""
