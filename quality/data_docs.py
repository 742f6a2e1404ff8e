"""Great Expectations Data Docs: the HTML report of every suite and validation, in the data directory.

One GX context per docs folder and process collects the suites and
validations of a run, so the site's index lists every check of the run;
each validation page stays on disk afterwards. The pages of validations that
passed are drawn once, when the run ends (`build_data_docs`, called by the
Dagster resource's teardown): drawn by each check, the site index and the
suite page were drawn again for every check, each time with templates
compiled anew (about 0.3 s a check). A failed validation is drawn at once,
with the index, so that its page is there even if the run is then killed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import great_expectations as gx
from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
from great_expectations.data_context import AbstractDataContext
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

from quality.gx_duckdb import quiet_context, relation_batch_definition, warehouse_datasource

SITE_NAME = "warehouse"
# Per docs folder: the validations (and their suites) whose pages are not drawn yet.
_PENDING: dict[Path, list[ValidationResultIdentifier | ExpectationSuiteIdentifier]] = {}


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


def validate_with_docs(warehouse: Path, relation: str, suite: gx.ExpectationSuite,
                       docs_dir: Path, query: str | None = None,
                       memory_limit: str | None = None) -> ExpectationSuiteValidationResult:
    """Validate `relation` (or the rows of `query`, under its name) with `suite` through a GX checkpoint whose
    result the Data Docs in `docs_dir` show once `build_data_docs` draws them (at once when it failed; a
    caller outside Dagster calls `build_data_docs` itself when done)."""
    context = docs_context(docs_dir.resolve())
    with warehouse_datasource(warehouse, context=context, name=f"warehouse {relation}",
                              memory_limit=memory_limit) as (_, datasource):
        batch_definition = relation_batch_definition(datasource, relation, query)
        stored_suite = context.suites.add_or_update(suite)
        validation = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(data=batch_definition, suite=stored_suite, name=relation))
        checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
            name=relation, validation_definitions=[validation], result_format="SUMMARY"))
        ((identifier, result),) = checkpoint.run().run_results.items()
    _PENDING.setdefault(docs_dir.resolve(), []).extend(
        [identifier, ExpectationSuiteIdentifier(name=stored_suite.name)])
    if not result.success:
        build_data_docs(docs_dir)
    return result


def build_data_docs(docs_dir: Path) -> None:
    """Draw the pages of the validations made since the last call (and their suites) and the site index.

    Nothing when no validation was made: an earlier run's index stays as it is.
    """
    pending = _PENDING.pop(docs_dir.resolve(), [])
    if pending:
        docs_context(docs_dir.resolve()).build_data_docs(
            site_names=[SITE_NAME], resource_identifiers=pending, build_index=True)
