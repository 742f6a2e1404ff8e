"""One asset check per raw table: the raw suite (quality/rules/raw.py and keys.py) reported by GX in DuckDB.

GX evaluates no rule again: it counts and shows the one judgement
(quality.quarantine.judged_rules): the verdicts of the rules that judge a
row by itself and its file, kept when the load was committed
(quality/verdicts.py), and the references as this run's quarantine judged
them (the check runs after the entity's quarantine).

Each run examines the rows of the loads the check has not seen yet (a new
file, a file's new version, new database rows): the rules judge a row by
itself and its file, so an examined load needs no second look.

Severity WARN: the rows breaking a rule are quarantined (quarantine assets)
and the clean rows go on; what stops a run is a file above the bad-share
limit (refused at load) and the blocking `bad_share_within_limit` check on
the quarantine. This check shows what the rules found in raw, with GX's figures.
"""

import dagster as dg

from ingestion.contract import ENTITIES, Entity
from orchestration.assets.quarantine import quarantine_key
from orchestration.checks.suite_check import build_suite_check
from quality.quarantine import judged_rules
from quality.slices import NewLoads


def build_raw_rules_check(entity: Entity) -> dg.AssetChecksDefinition:
    """The check `raw_rules` on the asset raw/<entity>."""
    return build_suite_check(
        asset_key=dg.AssetKey(["raw", entity.name]),
        name="raw_rules",
        relation=entity.current_raw_table,
        rules=lambda _settings: judged_rules(entity.name),
        columns=entity.columns,
        examines=NewLoads(entity),
        after=(quarantine_key(entity),),
        severity=dg.AssetCheckSeverity.WARN,
        description=f"Great Expectations suite raw.{entity.name}: contract columns present, keys present and unique "
                    "within a file, references known, timestamps parse and are not in the future, amounts numeric "
                    "and not negative, survey scores on their scale, text decodes.",
    )


raw_rules_checks = [build_raw_rules_check(entity) for entity in ENTITIES.values()]
