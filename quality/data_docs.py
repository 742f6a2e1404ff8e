"""Great Expectations Data Docs: the HTML report of every suite and validation, in the data directory.

One GX context per docs folder and process collects the suites and
validations of a run, so the site's index lists every check of the run;
each validation page stays on disk afterwards.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import great_expectations as gx
from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
from great_expectations.data_context import AbstractDataContext

from quality.gx_duckdb import quiet_context, relation_batch_definition, warehouse_datasource

SITE_NAME = "warehouse"


@lru_cache(maxsize=4)
def docs_context(docs_dir: Path) -> AbstractDataContext:
    """An in-memory GX context whose only Data Docs site is the folder `docs_dir`."""
    context = quiet_context()
    for name in list(context.get_config().data_docs_sites or {}):
        context.delete_data_docs_site(name)
    context.add_data_docs_site(SITE_NAME, {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    })
    return context


def index_page(docs_dir: Path) -> Path:
    """The Data Docs home page."""
    return docs_dir / "index.html"


def validate_with_docs(warehouse: Path, relation: str, suite: gx.ExpectationSuite,
                       docs_dir: Path, query: str | None = None,
                       memory_limit: str | None = None) -> ExpectationSuiteValidationResult:
    """Validate `relation` (or the rows of `query`, under its name) with `suite` through a GX checkpoint that
    updates the Data Docs in `docs_dir`."""
    context = docs_context(docs_dir.resolve())
    with warehouse_datasource(warehouse, context=context, name=f"warehouse {relation}",
                              memory_limit=memory_limit) as (_, datasource):
        batch_definition = relation_batch_definition(datasource, relation, query)
        stored_suite = context.suites.add_or_update(suite)
        validation = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(data=batch_definition, suite=stored_suite, name=relation))
        checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
            name=relation, validation_definitions=[validation], result_format="SUMMARY",
            actions=[gx.checkpoint.UpdateDataDocsAction(name="update_data_docs", site_names=[SITE_NAME])],
        ))
        (result,) = checkpoint.run().run_results.values()
    return result
