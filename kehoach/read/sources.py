"""Reading raw plan texts: encoding checks, newline and Unicode normalisation.

A raw source is an immutable snapshot: ``raw/<name>.txt`` next to
``raw/<name>.origin.json`` (title, number, issuer, publisher URL, retrieval
date, licence note, sha256). The text is decoded strictly: UTF-8 (with or
without BOM) or UTF-16 with BOM. Anything else is refused rather than
decoded into plausible-looking garbage.

Reading is two steps, so that an unchanged refresh costs a hash per file:
``read_file`` reads the bytes (regular files, within the size limit), hashes
them and reads the origin record (``SourceFile``); ``decode_source`` decodes
and splits them into lines (``SourceText``), with located errors. A build
decodes only when its fingerprint says the inputs changed, and only where
it parses; the package describes its sources (``describe``:
``SourceRecord``) without their lines.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import os
import stat
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

from kehoach.core.errors import KehoachError
from kehoach.core.limits import limits
from kehoach.core.text import nfc
from kehoach.read.document import Document, render
from kehoach.read.formats import ACCEPTED, format_of, refuse_unsupported

log = logging.getLogger(__name__)

# A directory's plans, by name (the reader is then chosen by content: ``kehoach/read/formats.py``);
# a file named on the command line is read whatever its name.
SOURCE_SUFFIXES = (".txt", ".md", ".docx", ".odt", ".html", ".htm", ".pdf")
_SNIFF_BYTES = 4096
ORIGIN_SUFFIX = ".origin.json"
# The ASCII control characters a plain text must not hold (tab, LF, FF and CR are text), as a
# map of every byte to 0 (such a byte) or 1: one translate and one find scan a text in a
# sixth of the time a regex takes.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])
_CONTROL_MAP = bytes(0 if b in _CONTROL_BYTES else 1 for b in range(256))


@dataclass(frozen=True)
class SourceFile:
    """One source as read, not yet decoded: what the input fingerprint needs
    (the hashes of the text and of its origin record), and the bytes to decode
    if a rebuild is needed (so a text is read once by this process)."""

    path: str
    sha256: str
    size: int
    origin: dict = field(default_factory=dict, compare=False)
    origin_sha256: str | None = None  # None: no origin record next to the text
    data: bytes = field(default=b"", compare=False, repr=False)
    # what ``describe`` says of it, kept when its bytes are let go of (``without_bytes``)
    described: SourceRecord | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class SourceRecord:
    """A source as a package describes it: its file, hash, size, encoding and
    origin record, not its text (the parse has read the text; the package
    only names and copies it)."""

    path: str
    sha256: str
    size: int
    encoding: str
    origin: dict = field(default_factory=dict, compare=False)
    origin_sha256: str | None = None
    format: str = "text"  # a registered format's name (formats.py), or 'text'


@dataclass(frozen=True)
class SourceText(SourceRecord):
    """One decoded source: ``lines[0]`` is line 1 of the file, or of its canonical
    rendering when a reader of another format read it (``kehoach/read/document.py``)."""

    lines: tuple[str, ...] = field(kw_only=True)
    reader: str | None = field(default=None, kw_only=True)  # the library that read a non-text format
    pages: int | None = field(default=None, kw_only=True)  # the document's page count, for paged formats
    line_pages: tuple[int | None, ...] | None = field(default=None, kw_only=True, compare=False, repr=False)
    line_confidences: tuple[float | None, ...] | None = field(default=None, kw_only=True, compare=False,
                                                               repr=False)
    notes: tuple[str, ...] = field(default=(), kw_only=True)  # what the reader says of the document

    def line(self, number: int) -> str:
        return self.lines[number - 1]


def encoding_of(data: bytes) -> str:
    """The encoding a text is read in: its byte-order mark's (UTF-8 or UTF-16), else UTF-8."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def decode(data: bytes, path: str | Path) -> tuple[str, str]:
    """Return (text, encoding name) or raise a located ``KehoachError``."""
    if not data:
        raise KehoachError("file is empty", path)
    encoding = encoding_of(data)
    body = data[len(codecs.BOM_UTF8):] if encoding == "utf-8-sig" else data
    try:
        text = body.decode("utf-16" if encoding == "utf-16" else "utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        if encoding != "utf-16" and b"\x00" in data[:_SNIFF_BYTES]:  # no legacy code page writes NUL bytes
            raise KehoachError(f"binary data (byte 0x{data[exc.start]:02x} at offset {exc.start}), "
                               f"neither a text nor a format read here; accepted: {ACCEPTED}", path) from None
        raise KehoachError(
            f"not valid {'UTF-16' if encoding == 'utf-16' else 'UTF-8'} text "
            f"(byte 0x{data[exc.start]:02x} at offset {exc.start}); legacy code pages "
            "such as Windows-1258, VNI or TCVN3 are not accepted: save the file as UTF-8",
            path,
            line,
        ) from None
    utf8 = text.encode("utf-8") if encoding == "utf-16" else body
    at = utf8.translate(_CONTROL_MAP).find(0)
    if at >= 0:  # an ASCII byte in UTF-8 is that character, and a line break is one byte
        line = utf8.count(b"\n", 0, at) + 1
        raise KehoachError(
            f"binary data (control character U+{utf8[at]:04X}); expected a plain-text plan",
            path,
            line,
        )
    return text, encoding


def split_lines(text: str) -> tuple[str, ...]:
    """Normalise CRLF and lone CR to LF, then split (no trailing empty line)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    return tuple(text.split("\n"))


def origin_path(source: Path) -> Path:
    return source.with_name(source.stem + ORIGIN_SUFFIX)


def read_origin(source: Path) -> dict:
    return parse_origin(*read_origin_bytes(source))[0]


def read_origin_bytes(source: Path) -> tuple[Path, bytes | None]:
    """The origin record's path and bytes (None when the text has none)."""
    path = origin_path(source)
    try:
        return path, path.read_bytes()
    except FileNotFoundError:
        return path, None


def parse_origin(path: Path, data: bytes | None) -> tuple[dict, str | None]:
    """The origin record and the sha256 of its bytes ({} and None without one)."""
    if data is None:
        return {}, None
    try:
        return json.loads(data.decode("utf-8")), hashlib.sha256(data).hexdigest()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KehoachError(f"origin record is not valid JSON: {exc}", path) from None


def read_bytes(path: Path, shown: str, max_bytes: int | None) -> bytes:
    """The file's bytes: a regular file only (not a device, FIFO or socket),
    at most ``max_bytes`` of it (checked while reading: a size can lie)."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer before we can refuse it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise KehoachError("no such file", shown) from None
    except IsADirectoryError:
        raise KehoachError("is a directory, expected a text file", shown) from None
    except PermissionError:
        raise KehoachError("permission denied: cannot read this file", shown) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise KehoachError("is a directory, expected a text file", shown)
        if not stat.S_ISREG(info.st_mode):
            raise KehoachError("not a regular file (a device, pipe or socket); expected a text file", shown)
        # Read what the file says it holds (a read of the limit's size would allocate the whole
        # limit, 50 MB, for every 4 KB file), then whatever it grew by since, up to the limit.
        want = max_bytes + 1 if max_bytes else -1
        data = handle.read(min(info.st_size + 1, want) if want > 0 else -1)
        if 0 < len(data) == info.st_size + 1 < want:
            data += handle.read(want - len(data))
    if max_bytes and len(data) > max_bytes:
        raise KehoachError(f"file is larger than {max_bytes:,} bytes (the limit KEHOACH_MAX_FILE_BYTES)", shown)
    return data


def check_line_lengths(lines: tuple[str, ...], shown: str, max_chars: int | None) -> None:
    """Refuse a line longer than ``max_chars`` (a plan's longest paragraph is far shorter)."""
    if not max_chars:
        return
    for number, line in enumerate(lines, 1):
        if len(line) > max_chars:
            raise KehoachError(f"line is {len(line):,} characters long, more than {max_chars:,} "
                               "(the limit KEHOACH_MAX_LINE_CHARS)", shown, number)


def read_file(path: str | Path, display: str | None = None) -> SourceFile:
    """Read and hash one source and its origin record, without decoding the text."""
    path = Path(path)
    shown = display or str(path)
    data = read_bytes(path, shown, limits().max_file_bytes)
    sha256 = hashlib.sha256(data).hexdigest()
    origin, origin_sha256 = parse_origin(*read_origin_bytes(path))
    recorded = origin.get("sha256")
    if recorded and recorded != sha256:
        # An amended text dropped into raw/ is legitimate input; the package
        # records the hash of what was actually read. Said in the log, not as a
        # warning: stderr carries only errors.
        log.info("%s: content differs from the sha256 recorded in %s", shown, origin_path(path).name)
    return SourceFile(shown, sha256, len(data), origin, origin_sha256, data)


def decode_source(source: SourceFile) -> SourceText:
    """Decode a source read by ``read_file`` into NFC lines (located errors for a bad text):
    a file whose bytes carry a registered format's signature is read by that format's
    reader and rendered; any other file is a plain text."""
    data = source.data or _read_again(source)
    found = format_of(data)
    if found is not None:
        return _rendered(source, found.read(data, source.path))
    refuse_unsupported(data, source.path)
    text, encoding = decode(data, source.path)
    # NFC at once: no composition crosses a line break, so it is the NFC of every line
    lines = split_lines(nfc(text))
    check_line_lengths(lines, source.path, limits().max_line_chars)
    return SourceText(source.path, source.sha256, source.size, encoding, source.origin, source.origin_sha256,
                      lines=lines)


# The renderings this process read, by the sha256 of their file: the package ships each
# beside its original, and must not read the document again (a scan's OCR takes minutes).
# Bounded: a corpus of documents does not hold every text here.
_RENDERED: OrderedDict[str, tuple[str, ...]] = OrderedDict()
_RENDERED_KEPT = 256


def _rendered(source: SourceFile, document: Document) -> SourceText:
    """A document read by a format's reader, as the lines of its canonical rendering."""
    rendering = render(document)
    for note in document.notes:  # what the reader could not keep (a numbering it cannot rebuild, …)
        log.warning("%s: %s", source.path, note)
    lines = tuple(nfc(line) for line in rendering.lines)
    if not any(line.strip() for line in lines):  # as an empty text is refused: no line to locate a problem on
        raise KehoachError(f"the document ({document.format}) holds no text: an empty or damaged file?", source.path)
    _RENDERED[source.sha256] = lines
    while len(_RENDERED) > _RENDERED_KEPT:
        _RENDERED.popitem(last=False)
    check_line_lengths(lines, source.path, limits().max_line_chars)
    return SourceText(source.path, source.sha256, source.size, "utf-8", source.origin, source.origin_sha256,
                      document.format, lines=lines, reader=document.reader, pages=document.pages,
                      line_pages=rendering.pages, line_confidences=rendering.confidences, notes=document.notes)


def rendering_of(source: SourceRecord, data: bytes) -> str | None:
    """The canonical rendering of a source in another format than text, as a file's
    text (what ``source/<name>.txt`` holds beside the original); None for a plain text."""
    found = format_of(data) if source.format != "text" else None
    if found is None:
        return None
    lines = _RENDERED.get(source.sha256)  # read by this process's parse: not read again
    if lines is None:  # parsed elsewhere (a Dask worker) or in an earlier run: read once more
        lines = tuple(nfc(line) for line in render(found.read(data, source.path)).lines)
    return "\n".join(lines) + "\n"


def without_bytes(source: SourceFile) -> SourceFile:
    """The source, described, without its bytes: a corpus's texts are not all held while it is
    built (20,000 texts are about 2 GB); ``decode_source`` reads a text again where it parses it."""
    return replace(source, data=b"", described=describe(source))


def _read_again(source: SourceFile) -> bytes:
    """The bytes of a source ``without_bytes`` let go of: the same, or the build stops."""
    data = read_bytes(Path(source.path), source.path, limits().max_file_bytes)
    if hashlib.sha256(data).hexdigest() != source.sha256:
        raise KehoachError("the file changed while the build was reading it: run the build again", source.path)
    return data


def describe(source: SourceFile) -> SourceRecord:
    """What a package says of a source read by ``read_file``, without decoding it again."""
    if source.described is not None:
        return source.described
    found = format_of(source.data)
    if found is not None:
        return SourceRecord(source.path, source.sha256, source.size, "utf-8", source.origin, source.origin_sha256,
                            found.name)
    return SourceRecord(source.path, source.sha256, source.size, encoding_of(source.data), source.origin,
                        source.origin_sha256)


def read_source(path: str | Path, display: str | None = None) -> SourceText:
    """Read, hash and decode one source."""
    return decode_source(read_file(path, display))


def discover(paths: list[str | Path]) -> list[Path]:
    """Expand files and directories into the sorted list of source files."""
    found: list[Path] = []
    for entry in paths:
        p = Path(entry)
        if p.is_dir():
            found.extend(sorted(f for f in p.iterdir() if f.is_file() and f.suffix in SOURCE_SUFFIXES))
        elif p.exists() or p.is_symlink():
            found.append(p)  # read_source says what is wrong with it (not a regular file, …)
        else:
            raise KehoachError("no such file or directory", p)
        maximum = limits().max_files
        if maximum and len(found) > maximum:
            raise KehoachError(f"more than {maximum:,} plan texts (the limit KEHOACH_MAX_FILES)", p)
    if not found:
        raise KehoachError(f"no plans ({', '.join('*' + s for s in SOURCE_SUFFIXES)}) found",
                           ", ".join(str(p) for p in paths))
    return found

