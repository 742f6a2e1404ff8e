"""One row-level rule: which rows break it (an SQL predicate) and why, in words.

The same rule serves two purposes: as a Great Expectations
`UnexpectedRowsExpectation` (a check with counts and examples) and, for the
quarantine, as the filter that moves the breaking rows aside. One
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
    # SQL, true for a row that breaks the rule. It may read the whole checked
    # table through the placeholder `{batch}` (duplicates need other rows).
    predicate: str
    # ERROR: the row is quarantined. WARNING: reported, and the row goes on
    # (staging types the value to NULL).
    severity: str = ERROR
    # False for rows that are only collateral: a line whose order is
    # quarantined is set aside too, but is not a defect of its own file,
    # so it does not count against the bad-share limit.
    counts_against_limit: bool = True
    # A whole query instead of `SELECT * FROM {batch} WHERE predicate`, for
    # invariants across tables: it returns one row per broken case.
    rows_query: str | None = None
    # What the rows a check returns may show, so that no check result, sample, log or Data Docs page
    # ever shows a name, e-mail or phone: only these columns (all when empty), minus the hidden ones.
    shown_columns: tuple[str, ...] = ()
    hidden_columns: tuple[str, ...] = ()
    # True when the verdict can change with the clock alone (a timestamp no longer in the future):
    # a kept verdict of such a rule is judged again (quality/verdicts.py).
    clock_dependent: bool = False

    def shows(self, column: str) -> bool:
        """Whether the rows this rule returns may show `column`."""
        return column not in self.hidden_columns and (not self.shown_columns or column in self.shown_columns)

    def predicate_on(self, relation: str) -> str:
        """The predicate with `{batch}` replaced by `relation` (a table name or a parenthesised query)."""
        return self.predicate.replace("{batch}", relation)

    def unexpected_rows_query(self, relation: str = "{batch}") -> str:
        """SELECT of the rows breaking the rule (GX substitutes `{batch}` with the validated table)."""
        if self.rows_query is not None:
            return self.rows_query.replace("{batch}", relation)
        if self.shown_columns:
            columns = ", ".join(c for c in self.shown_columns if c not in self.hidden_columns)
        else:
            columns = f"* EXCLUDE ({', '.join(self.hidden_columns)})" if self.hidden_columns else "*"
        return f"SELECT {columns} FROM {relation} WHERE {self.predicate_on(relation)}"
