"""Text encodings of CSV files: UTF-8 or GB18030 (GBK is a subset), told apart in one pass.

DuckDB reads UTF-8 only (its `encodings` extension cannot be downloaded
here), so a GB18030 file is transcoded to a temporary UTF-8 copy in streaming
chunks before DuckDB parses it.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

CHUNK_BYTES = 8 * 1024 * 1024


class EncodingError(ValueError):
    """A file that is neither valid UTF-8 nor valid GB18030."""


@dataclass(frozen=True)
class Fingerprint:
    """A file's content hash, size and (for text files) encoding."""

    sha256: str
    size: int
    encoding: str | None  # "utf-8", "gb18030", or None when not inspected


def fingerprint(path: Path, inspect_text: bool) -> Fingerprint:
    """Hash a file and, if `inspect_text`, tell UTF-8 from GB18030 in the same read."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")() if inspect_text else None
    is_utf8 = inspect_text
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
            if is_utf8 and decoder is not None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    is_utf8 = False
        if is_utf8 and decoder is not None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                is_utf8 = False
    encoding = None if not inspect_text else ("utf-8" if is_utf8 else "gb18030")
    return Fingerprint(digest.hexdigest(), size, encoding)


def transcode_to_utf8(source: Path, target: Path, encoding: str) -> None:
    """Write a UTF-8 copy of `source`; raise EncodingError naming line and byte on a broken byte."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    lines_before = 0
    with source.open("rb") as src, target.open("wb") as dst:
        while True:
            chunk = src.read(CHUNK_BYTES)
            final = not chunk
            try:
                text = decoder.decode(chunk, final=final)
            except UnicodeDecodeError as err:
                bad = offset + err.start
                line = lines_before + chunk[: err.start].count(b"\n") + 1
                raise EncodingError(
                    f"{source}: line {line} (byte {bad}) is neither valid UTF-8 nor valid "
                    f"{encoding.upper()}: bytes {chunk[err.start:err.start + 4]!r}"
                ) from None
            dst.write(text.encode("utf-8"))
            if final:
                break
            offset += len(chunk)
            lines_before += chunk.count(b"\n")
