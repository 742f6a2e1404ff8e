"""One blocking asset check per mart family: the bounds and invariants of METRICS.md, run by GX.

A failure keeps the marts from being published: serving/marts runs only after these pass.
"""

import dagster as dg

from orchestration.checks.suite_check import build_suite_check
from quality.rules.marts import MART_RULES, MARTS_SCHEMA


def build_mart_rules_check(mart: str) -> dg.AssetChecksDefinition:
    """The check `mart_rules` on the asset marts/<mart>."""
    return build_suite_check(
        asset_key=dg.AssetKey([MARTS_SCHEMA, mart]),
        name="mart_rules",
        relation=f"{MARTS_SCHEMA}.{mart}",
        rules=lambda _settings: MART_RULES[mart],
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"Great Expectations suite {MARTS_SCHEMA}.{mart}, failing on: "
                    + "; ".join(rule.reason for rule in MART_RULES[mart]) + ". Blocking.",
    )


mart_rules_checks = [build_mart_rules_check(mart) for mart in MART_RULES]
