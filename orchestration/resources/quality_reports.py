"""Where the Great Expectations Data Docs of the checks are written."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from quality.data_docs import index_page


class QualityReports(dg.ConfigurableResource):
    """The Data Docs folder (default <data dir>/data_docs); every GX check updates it."""

    data_docs_dir: str

    @property
    def path(self) -> Path:
        """The Data Docs folder."""
        return Path(self.data_docs_dir)

    @property
    def index(self) -> Path:
        """The Data Docs home page."""
        return index_page(self.path)
