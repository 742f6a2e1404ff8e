"""Finding the files that landed for an entity and telling their format."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Suffix -> format. Compressed CSV and JSON Lines are read by DuckDB directly.
FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonl.gz": "jsonl",
}


@dataclass(frozen=True)
class LandingFile:
    """A file waiting in the landing directory."""

    path: Path
    relative_path: str  # relative to the landing dir, with forward slashes: the file's identity
    file_format: str


def file_format_of(path: Path) -> str | None:
    """Return the format of a landing file from its name, or None when it is not a data file."""
    name = path.name.lower()
    for suffix in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return FORMATS[suffix]
    return None


def is_hidden(path: Path, root: Path) -> bool:
    """Tell whether a path is a hidden or private file (`.x` or `_x`) anywhere below root."""
    return any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


def landing_files(landing_dir: Path, entity: str) -> tuple[list[LandingFile], list[Path]]:
    """Return the entity's data files (sorted by path) and the files skipped for an unknown format.

    Files and folders whose name starts with `.` or `_` are private (temp
    files of a writer still copying, reports) and are neither loaded nor reported.
    """
    folder = landing_dir / entity
    if not folder.is_dir():
        return [], []
    data_files: list[LandingFile] = []
    unknown: list[Path] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if is_hidden(path, folder):
            continue
        fmt = file_format_of(path)
        if fmt is None:
            unknown.append(path)
        else:
            data_files.append(LandingFile(path, path.relative_to(landing_dir).as_posix(), fmt))
    return data_files, unknown


def file_signature(path: Path) -> str:
    """What says a file's bytes are as they were when last read, without reading them.

    Size, modification time, change time and inode, as `git status` compares
    its index. `touch` or a copy changes the signature (the bytes are then
    hashed again and found the same); writing the file changes its change
    time, which no file tool can set back, so a rewrite that keeps the size
    and restores the modification time is still seen.
    """
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}"


def landing_snapshot(landing_dir: Path, entities: list[str], globs: list[str] = ()) -> dict[str, str]:
    """Return {relative path: file_signature} of every data file waiting in the landing dir.

    `globs` are the mapped exports' globs (ingestion/mapping), whose files lie outside the entity folders.
    """
    paths = [f.path for entity in entities for f in landing_files(landing_dir, entity)[0]]
    paths += [p for glob in globs for p in landing_dir.glob(glob) if p.is_file() and not is_hidden(p, landing_dir)]
    snapshot: dict[str, str] = {}
    for path in paths:
        snapshot[path.relative_to(landing_dir).as_posix()] = file_signature(path)
    return snapshot

