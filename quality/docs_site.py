"""Where the Data Docs site lives, without Great Expectations.

Readers (`retention status`, the summary after a run) only need the page's
path; importing Great Expectations for it took 3-7 s of a status call.
"""

from __future__ import annotations

from pathlib import Path


def index_page(docs_dir: Path) -> Path:
    """The Data Docs home page."""
    return docs_dir / "index.html"
