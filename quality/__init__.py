"""Great Expectations quality gates for the raw, staging and mart layers.

`gx_duckdb` makes GX 1.x validate the DuckDB warehouse with its queries
running inside DuckDB (GX has no DuckDB datasource of its own). The suites per
layer and the Dagster asset checks built from them come next (issue 4); until
then the dbt tests of the models are the checks that guard the graph.
"""
