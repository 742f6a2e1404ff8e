"""Where the Great Expectations Data Docs of the checks are written."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from quality.data_docs import build_data_docs
from quality.docs_site import index_page


class QualityReports(dg.ConfigurableResource):
    """The Data Docs folder (default <data dir>/data_docs); the pages of a run's GX checks are drawn when the
    run ends, failed or not."""

    data_docs_dir: str

    @property
    def path(self) -> Path:
        """The Data Docs folder."""
        return Path(self.data_docs_dir)

    @property
    def index(self) -> Path:
        """The Data Docs home page."""
        return index_page(self.path)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """Draw the Data Docs pages of the checks this run made, and the index."""
        build_data_docs(self.path)
