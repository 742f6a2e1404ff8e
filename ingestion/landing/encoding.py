"""Text encodings of CSV files: UTF-8, or detected (charset-normalizer) with a confidence, or named by the user.

DuckDB reads UTF-8 only (its `encodings` extension cannot be downloaded
here), so any other file is transcoded to a temporary UTF-8 copy in streaming
chunks before DuckDB parses it. Bytes valid in the chosen encoding nowhere
become U+FFFD in the copy, and their rows go to quarantine rather than
failing the file.

How the encoding is chosen, in one streaming pass that also hashes the file:

1. an encoding the sources file names for the file (`files:`) is used as it is;
2. a UTF-16 byte-order mark says UTF-16;
3. a file that is valid UTF-8 is UTF-8; one that is almost (more valid
   multi-byte characters than broken sequences) is UTF-8 with a few broken bytes;
4. otherwise the lines holding non-ASCII bytes are read in each encoding
   exports here come in (GB18030 for Chinese CRMs, Windows-1252 for Western
   Europe, Big5, Shift-JIS, ...) and scored by charset-normalizer's mess
   detector. Every encoding that reads the sample about as cleanly as the
   best is plausible; when they all read it to the same text the guess is
   certain, otherwise the preferred one is taken with a confidence of
   1 / (number of different readings), and the loader warns, naming the file
   and how to set its encoding. A Latin-1 file is therefore never read as GB18030 (`J黵gen`):
   that reading is far messier than Windows-1252's `Jürgen`.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from charset_normalizer.md import mess_ratio

CHUNK_BYTES = 8 * 1024 * 1024
SAMPLE_BYTES = 512 * 1024
REPLACEMENT = "\ufffd"
# Encodings real exports arrive in, most likely first: the tie-break between plausible readings.
CANDIDATE_ENCODINGS = ("gb18030", "cp1252", "big5", "shift_jis", "euc_kr", "cp1250", "cp1251", "iso8859_15")
# Readings this much messier than the best one are not plausible.
PLAUSIBLE_CHAOS_MARGIN = 0.05
# Below this the loader warns that the encoding is a guess.
CONFIDENT = 0.75
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True)
class Fingerprint:
    """A file's content hash, size and (for text files) encoding, with how sure the choice is."""

    sha256: str
    size: int
    encoding: str | None  # "utf-8", "gb18030", "cp1252", ... or None when not inspected
    decodes_cleanly: bool = True  # False: some bytes are valid in neither encoding
    confidence: float = 1.0  # 1.0 when certain (valid UTF-8, a byte-order mark, named by the user)
    how: str = "not inspected"  # "named in the sources file", "valid UTF-8", "detected", ...
    alternatives: tuple[str, ...] = field(default=())  # other encodings that read the file differently

    @property
    def needs_transcoding(self) -> bool:
        """Whether DuckDB (UTF-8 only) needs a transcoded copy of the file."""
        return self.encoding is not None and (self.encoding != "utf-8" or not self.decodes_cleanly)

    @property
    def is_guess(self) -> bool:
        """Whether the encoding was detected with too little certainty to go unmentioned."""
        return self.confidence < CONFIDENT

    def describe(self) -> str:
        """E.g. `encoding cp1252 (detected, confidence 50 %; cp1250 reads it differently)`."""
        text = f"encoding {self.encoding} ({self.how}"
        if self.how == "detected":
            text += f", confidence {self.confidence:.0%}"
        if self.alternatives:
            text += f"; {', '.join(self.alternatives)} read{'s' if len(self.alternatives) == 1 else ''} it differently"
        return text + ")"


@dataclass
class _Scan:
    """What one pass over the file found."""

    digest: object
    size: int = 0
    head: bytes = b""
    valid_utf8: bool = True
    sample: list[bytes] = field(default_factory=list)
    sample_size: int = 0


def open_bytes(path: Path) -> BinaryIO:
    """The file's bytes, decompressed when it is gzipped (name ending .gz)."""
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


def _scan(path: Path, inspect_text: bool) -> _Scan:
    """Hash the file; for text, also check UTF-8 validity and keep a sample of its non-ASCII lines.

    The hash is of the file as it is; the text checks read it decompressed.
    """
    scan = _Scan(hashlib.sha256())
    decoder = codecs.getincrementaldecoder("utf-8")() if inspect_text else None
    carry = b""
    compressed = path.name.lower().endswith(".gz")
    if compressed:
        with path.open("rb") as raw:
            while chunk := raw.read(CHUNK_BYTES):
                scan.digest.update(chunk)
        if not inspect_text:
            scan.size = path.stat().st_size
            return scan
    with open_bytes(path) as handle:
        while chunk := handle.read(CHUNK_BYTES):
            if not compressed:
                scan.digest.update(chunk)
            if not scan.size:
                scan.head = chunk[:4]
            scan.size += len(chunk)
            if decoder is None:
                continue
            if scan.valid_utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    scan.valid_utf8 = False
            if scan.sample_size < SAMPLE_BYTES and not chunk.isascii():
                lines = (carry + chunk).split(b"\n")
                carry = lines.pop()
                for line in lines:
                    if not line.isascii() and scan.sample_size < SAMPLE_BYTES:
                        scan.sample.append(line)
                        scan.sample_size += len(line) + 1
            else:
                carry = chunk.rsplit(b"\n", 1)[-1]
    if decoder is not None and scan.valid_utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            scan.valid_utf8 = False
    if carry and not carry.isascii() and scan.sample_size < SAMPLE_BYTES:
        scan.sample.append(carry)
    return scan


def fingerprint(path: Path, inspect_text: bool, encoding: str | None = None) -> Fingerprint:
    """Hash a file and, if `inspect_text`, choose its encoding (see the module docstring).

    `encoding`, when given, is the user's: it is used as it is.
    """
    scan = _scan(path, inspect_text and encoding is None)
    sha256 = scan.digest.hexdigest()
    size = path.stat().st_size
    if encoding is not None:
        name = codecs.lookup(encoding).name
        return Fingerprint(sha256, size, "utf-8" if name == "utf-8" else name, how="named in the sources file")
    if not inspect_text:
        return Fingerprint(sha256, size, None)
    if scan.head.startswith(UTF16_BOMS):
        return Fingerprint(sha256, size, "utf-16", how="byte-order mark")
    if scan.valid_utf8:  # a UTF-8 byte-order mark included: DuckDB skips it
        return Fingerprint(sha256, size, "utf-8", how="valid UTF-8")
    utf8_characters, utf8_errors = multibyte_utf8_evidence(path)
    if utf8_characters > utf8_errors:
        return Fingerprint(sha256, size, "utf-8", decodes_cleanly=False,
                           how=f"UTF-8 with {utf8_errors:,} broken byte sequences")
    chosen, confidence, alternatives = detect(b"\n".join(scan.sample))
    return Fingerprint(sha256, size, chosen, decodes_cleanly=undecodable_sequences(path, chosen) == 0,
                       confidence=confidence, how="detected", alternatives=alternatives)


def detect(sample: bytes) -> tuple[str, float, tuple[str, ...]]:
    """(encoding, confidence, encodings that read the sample differently) among CANDIDATE_ENCODINGS.

    Each candidate reads the sample (undecodable bytes replaced) and is scored
    by charset-normalizer's mess ratio plus its share of undecodable
    characters, so a GB18030 file with one broken byte still reads best as
    GB18030 rather than as clean-looking Cyrillic.
    """
    readings = []
    for name in CANDIDATE_ENCODINGS:
        text = sample.decode(name, errors="replace")
        broken = text.count(REPLACEMENT) / max(len(text), 1)
        readings.append((mess_ratio(text, maximum_threshold=1.0) + broken, name, text))
    best = min(score for score, _, _ in readings)
    plausible = [(name, text) for score, name, text in readings if score <= best + PLAUSIBLE_CHAOS_MARGIN]
    chosen, chosen_text = plausible[0]  # CANDIDATE_ENCODINGS is in order of preference
    distinct = {text for _, text in plausible}
    others = tuple(name for name, text in plausible[1:] if text != chosen_text)
    return codecs.lookup(chosen).name, max(0.0, 1 - best) / len(distinct), others


def _decoded_chunks(path: Path, encoding: str) -> Iterator[str]:
    """The file's text in chunks, undecodable sequences replaced by U+FFFD."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with open_bytes(path) as handle:
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
