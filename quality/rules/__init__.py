"""Row-level quality rules: SQL predicates that mark a bad row, with the reason in words."""
