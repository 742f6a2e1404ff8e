"""Great Expectations quality gates for the raw, staging and mart layers.

- `gx_duckdb`: GX 1.x validating the DuckDB warehouse with its queries running
  inside DuckDB (GX has no DuckDB datasource of its own).
- `rules`: row-level rules (an SQL predicate and the reason in words); the raw
  layer's come from the source contract.
- `suites`: GX expectation suites built from the contract and the rules;
- `quarantine`, `reconciliation`: the raw rows set aside, and the count that
  proves every received row ended somewhere;
- `validation`, `data_docs`, `docs_site`: running a suite, its figures and the HTML Data Docs (`docs_site`: where they live, without GX).

orchestration/checks makes Dagster asset checks of them, with their severities.
"""
