"""One row-level rule: which rows break it (an SQL predicate) and why, in words.

The same rule serves two purposes: as a Great Expectations
`UnexpectedRowsExpectation` (a check with counts and examples) and, for the
quarantine of issue 4, as the filter that moves the breaking rows aside. One
definition, so the check and the quarantine cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class RowRule:
    """A rule on the rows of one entity's raw table (all columns are text there)."""

    name: str
    entity: str
    column: str
    reason: str
    predicate: str  # SQL, true for a row that breaks the rule
    severity: str = ERROR

    def unexpected_rows_query(self, relation: str = "{batch}") -> str:
        """SELECT of the rows breaking the rule (GX substitutes `{batch}` with the validated table)."""
        return f"SELECT * FROM {relation} WHERE {self.predicate}"
