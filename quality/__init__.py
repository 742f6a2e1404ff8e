"""Great Expectations quality gates for the raw, staging and mart layers.

The suites and the Dagster asset checks built from them land here (issue 4);
until then the dbt tests of the staging models are the checks that guard the
graph.
"""
