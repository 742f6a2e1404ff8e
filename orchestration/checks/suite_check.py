"""One factory for every Great Expectations asset check: a suite of rules run on one warehouse table.

The check's metadata carries GX's figures (expectations run and failed,
unexpected rows per rule) and a sample of failing rows with file and row
where the table has lineage; a failed check adds a summary line per rule
that names the table, the count and an example.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from orchestration.resources.marts import MartSettings
from orchestration.resources.quality_reports import QualityReports
from orchestration.resources.warehouse import DuckDBWarehouse
from quality.rules.row_rule import RowRule
from quality.slices import Slice
from quality.suites import rules_suite
from quality.validation import failing_samples, validate_relation


def build_suite_check(
    *,
    asset_key: dg.AssetKey,
    name: str,
    relation: str,
    rules: Callable[[MartSettings], list[RowRule]],
    description: str,
    severity: dg.AssetCheckSeverity,
    columns: tuple[str, ...] = (),
    examines: Slice | None = None,
    after: tuple[dg.AssetKey, ...] = (),
) -> dg.AssetChecksDefinition:
    """An asset check running the suite of `rules(mart_settings)` on `relation`; blocking when `severity` is ERROR.

    The rules see the deployment's mart settings (the reporting currency of the
    staging rules, say), read once into the resource. With a slice (`examines`,
    quality/slices.py), each run validates only the rows the check has not
    examined with these rules; the whole relation without one. `after`: assets
    whose tables the rules read, which the check therefore runs after.
    """

    @dg.asset_check(
        asset=asset_key,
        name=name,
        blocking=severity == dg.AssetCheckSeverity.ERROR,
        description=description,
        additional_deps=after,
    )
    def suite_check(warehouse: DuckDBWarehouse, quality_reports: QualityReports,
                    mart_settings: MartSettings) -> dg.AssetCheckResult:
        path = Path(warehouse.path)
        suite_rules = rules(mart_settings)
        query, sliced, fingerprint = None, {}, rules_fingerprint(suite_rules, columns)
        if examines is not None:
            with warehouse.connect() as con:
                new = examines.rows(con, name, fingerprint, everything=mart_settings.full_refresh)
            query, sliced = new.query, new.described
            if new.rows == 0:
                # Nothing to examine: the watermark moves on (a check that has passed and sees no change
                # must not hold back the pruning of the change log).
                with warehouse.connect() as con:
                    examines.examined(con, name, fingerprint, new)
                return dg.AssetCheckResult(
                    passed=True, severity=severity, metadata={"table": relation, **sliced},
                    description=f"{name} on {relation}: no rows new to this check since it last examined them")
        outcome = validate_relation(path, relation, rules_suite(relation, suite_rules, columns),
                                    docs_dir=quality_reports.path, query=query, memory_limit=warehouse.memory_limit)
        # Examples of the rules that counted failing rows; a rule whose query raised has none to show.
        failed_rules = {o.rule for o in outcome.failed if o.rule and o.error is None}
        samples = failing_samples(path, f"({query})" if query else relation,
                                  [rule for rule in suite_rules if rule.name in failed_rules],
                                  memory_limit=warehouse.memory_limit)
        # A blocking check that failed examines the same rows again next run.
        if examines is not None and (outcome.success or severity != dg.AssetCheckSeverity.ERROR):
            with warehouse.connect() as con:
                examines.examined(con, name, fingerprint, new)
        metadata = {
            "table": relation,
            **sliced,
            "expectations run": len(outcome.outcomes),
            "expectations failed": len(outcome.failed),
            "unexpected rows": dg.MetadataValue.json(
                {o.rule or o.description: o.unexpected_rows for o in outcome.outcomes if o.unexpected_rows}
            ),
            "failing rows (sample)": dg.MetadataValue.json(samples),
            "data docs": dg.MetadataValue.url(quality_reports.index.resolve().as_uri()),
        }
        summary = outcome.summary(samples)
        if summary:
            metadata["summary"] = dg.MetadataValue.md(summary)
        return dg.AssetCheckResult(
            passed=outcome.success, severity=severity, metadata=metadata,
            # Every rule that fired, one per line: a warning names all of them, not only the first.
            description=f"{name} on {relation}: " + (
                (f"{len(outcome.failed)} rules fired\n" + summary) if len(outcome.failed) > 1 else
                (summary or "every rule holds")),
        )

    return suite_check


def rules_fingerprint(rules: list[RowRule], columns: tuple[str, ...]) -> str:
    """A hash of what a suite checks (its rules' SQL and the expected columns): new rules examine every load."""
    described = [[rule.name, rule.predicate, rule.rows_query] for rule in rules] + [list(columns)]
    return hashlib.sha256(json.dumps(described).encode()).hexdigest()
