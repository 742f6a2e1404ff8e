"""Where the static HTML retention report is written."""

from __future__ import annotations

from pathlib import Path

import dagster as dg


class RetentionReport(dg.ConfigurableResource):
    """The report file (default <data dir>/report/retention_report.html), replaced after every publication."""

    report_path: str

    @property
    def path(self) -> Path:
        """The report file."""
        return Path(self.report_path)
