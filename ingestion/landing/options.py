"""Options for landing files, from the `files:` part of the sources file.

    files:
      legacy_crm:                           # a name of your choice
        glob: "customers/legacy_*.csv"      # relative to the landing directory; * and ? as in a shell
        encoding: latin-1                   # any Python codec name (latin-1, cp1252, gbk, big5, shift_jis...)

The first entry whose glob matches a file applies to it. Entries with
`entities` or a `preset` map exports in their own shape onto the contract
(ingestion/mapping/spec.py). An encoding named
here is used as it is, without detection (ingestion/landing/encoding.py).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from ingestion.sources_file import SourcesConfigError, checked_encoding, file_entries

KNOWN_OPTIONS = {"glob", "encoding"}


@dataclass(frozen=True)
class FileOptions:
    """How to read the landing files one glob matches."""

    name: str
    glob: str
    encoding: str | None = None

    def matches(self, relative_path: str) -> bool:
        """Whether the option applies to a landing file (path relative to the landing dir, forward slashes)."""
        return fnmatch.fnmatchcase(relative_path, self.glob)


def file_options(path: Path | None) -> list[FileOptions]:
    """The `files:` entries of the sources file that only set options, validated (an unknown encoding is named)."""
    options = []
    for name, settings, mapped in file_entries(path):
        if mapped:
            continue  # a mapped export: ingestion/mapping/spec.py reads it
        unknown = set(settings) - KNOWN_OPTIONS
        if unknown:
            raise SourcesConfigError(f"{path}: files.{name}: unknown option(s) {', '.join(sorted(unknown))}; "
                                     f"known: {', '.join(sorted(KNOWN_OPTIONS))}")
        encoding = checked_encoding(f"{path}: files.{name}", settings.get("encoding"))
        options.append(FileOptions(name, str(settings["glob"]), encoding))
    return options


def options_for(options: list[FileOptions], relative_path: str) -> FileOptions | None:
    """The first entry that applies to a file, or None."""
    return next((option for option in options if option.matches(relative_path)), None)
