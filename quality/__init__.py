"""Great Expectations quality gates for the raw, staging and mart layers.

- `gx_duckdb`: GX 1.x validating the DuckDB warehouse with its queries running
  inside DuckDB (GX has no DuckDB datasource of its own).
- `rules`: row-level rules (an SQL predicate and the reason in words); the raw
  layer's come from the source contract.
- `suites`: GX expectation suites built from the contract and the rules.

The Dagster asset checks with severities, the staging and mart suites and the
quarantine come next (issue 4); until then the dbt tests of the models are the
checks that run in the pipeline.
"""
