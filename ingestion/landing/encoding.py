"""Text encodings of CSV files: UTF-8 or GB18030 (GBK is a subset), told apart in one pass.

DuckDB reads UTF-8 only (its `encodings` extension cannot be downloaded
here), so a GB18030 file is transcoded to a temporary UTF-8 copy in streaming
chunks before DuckDB parses it. Bytes valid in neither encoding become
U+FFFD in the copy, and their rows go to quarantine rather than failing the file.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK_BYTES = 8 * 1024 * 1024


REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class Fingerprint:
    """A file's content hash, size and (for text files) encoding."""

    sha256: str
    size: int
    encoding: str | None  # "utf-8", "gb18030", or None when not inspected
    decodes_cleanly: bool = True  # False: some bytes are valid in neither encoding

    @property
    def needs_transcoding(self) -> bool:
        """Whether DuckDB (UTF-8 only) needs a transcoded copy of the file."""
        return self.encoding is not None and (self.encoding != "utf-8" or not self.decodes_cleanly)


def fingerprint(path: Path, inspect_text: bool) -> Fingerprint:
    """Hash a file and, if `inspect_text`, tell UTF-8 from GB18030.

    A file that is valid UTF-8 is UTF-8 (one pass). Otherwise a second pass
    weighs the evidence: GB18030 text almost never forms valid multi-byte
    UTF-8 characters, so a file with more of those than broken sequences is
    UTF-8 with a few broken bytes (not GB18030, which would garble it).
    """
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
    if not inspect_text:
        return Fingerprint(digest.hexdigest(), size, None)
    if is_utf8:
        return Fingerprint(digest.hexdigest(), size, "utf-8")
    utf8_characters, utf8_errors = multibyte_utf8_evidence(path)
    if utf8_characters > utf8_errors:
        return Fingerprint(digest.hexdigest(), size, "utf-8", decodes_cleanly=False)
    gb_errors = undecodable_sequences(path, "gb18030")
    return Fingerprint(digest.hexdigest(), size, "gb18030", decodes_cleanly=gb_errors == 0)


def _decoded_chunks(path: Path, encoding: str) -> Iterator[str]:
    """The file's text in chunks, undecodable sequences replaced by U+FFFD."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield decoder.decode(chunk)
        yield decoder.decode(b"", final=True)


def multibyte_utf8_evidence(path: Path) -> tuple[int, int]:
    """(valid non-ASCII characters, undecodable sequences) of the file read as UTF-8."""
    characters = errors = 0
    for text in _decoded_chunks(path, "utf-8"):
        bad = text.count(REPLACEMENT)
        errors += bad
        characters += sum(1 for ch in text if ord(ch) > 127) - bad
    return characters, errors


def undecodable_sequences(path: Path, encoding: str) -> int:
    """How many byte sequences of the file do not decode in `encoding`."""
    return sum(text.count(REPLACEMENT) for text in _decoded_chunks(path, encoding))


@dataclass(frozen=True)
class Transcoding:
    """What transcoding a file replaced: how many undecodable sequences, the first on which line."""

    replaced: int
    first_line: int | None


def transcode_to_utf8(source: Path, target: Path, encoding: str) -> Transcoding:
    """Write a UTF-8 copy of `source`, replacing undecodable byte sequences by U+FFFD.

    Nothing is dropped: the rows holding U+FFFD reach raw and are quarantined
    there by the rule `<entity>.text_decodes`, with file and row.
    """
    replaced = 0
    first_line = None
    lines_before = 0
    with target.open("w", encoding="utf-8", newline="") as dst:
        for text in _decoded_chunks(source, encoding):
            if first_line is None and REPLACEMENT in text:
                first_line = lines_before + text[: text.index(REPLACEMENT)].count("\n") + 1
            replaced += text.count(REPLACEMENT)
            lines_before += text.count("\n")
            dst.write(text)
    return Transcoding(replaced, first_line)
