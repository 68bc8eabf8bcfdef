"""Hostile variants of a plan issued as a document (.docx, .odt, .pdf, .html), and the invariant each keeps.

The binary counterpart of ``tests/mutator.py``, seeded the same way:
``document_variants(data, kind, seed, n)`` yields the same ``n`` files for the
same seed. Each mutation is what happens to a file on its way: cut off by a
download, bits flipped by a disk or a transfer, a token of the format's own
syntax spliced in (markup, PDF objects), and for a ZIP archive (.docx, .odt)
one entry's compressed bytes damaged, the entries rewritten in another order
or without one of them, one entry's XML edited by hand and zipped again (its
checksum right, its content wrong). ``document_outcome`` reads, parses and
audits a variant: a package, or one line located in the file (``FILE: …``,
``FILE: page N: …`` or ``FILE:LINE: …``); anything else breaks the invariant.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mutator import Outcome, classify_error
from pdf_renderer import text_pdf
from renderers import plan_structure, to_docx, to_html, to_odt

from kehoach.audit.runner import run_audit
from kehoach.core.errors import KehoachError
from kehoach.parse.corpus import parse_sources
from kehoach.read.sources import read_source

KINDS = ("docx", "odt", "pdf", "html")
# Tokens of each format's syntax, spliced in where they do not belong: each one is something a reader
# has to refuse or survive (spans beyond any table, a length beyond the file, nesting without end).
_TOKENS = {
    "html": (b"<", b">", b"&", b"\x00", b"<!--", b"</table>", b"<td rowspan=99999999>", b"<td colspan=0>",
             b"<td colspan=-3>", b"<td rowspan=1e9>", b"<table>" * 50, b"<meta charset=utf-16>", b"\xff\xfe"),
    "pdf": (b"obj", b"endobj", b"stream\n", b"endstream", b"/Length 99999999", b"[" * 2000, b"<<" * 500, b"xref",
            b"trailer", b"%%EOF", b"/Kids [1 0 R]", b"/Count 2000000000", b"/Filter /FlateDecode", b"\x00"),
    "zip": (b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"\xff" * 4, b"\x00" * 4),
}


@dataclass(frozen=True)
class DocumentVariant:
    kind: str
    seed: int
    index: int
    mutation: str
    data: bytes


def issued_as(kind: str, lines: tuple[str, ...], path: str = "plan.txt") -> bytes:
    """The plan text's lines written as a document of ``kind`` (tests/renderers.py, tests/pdf_renderer.py)."""
    if kind == "pdf":
        return text_pdf(lines, path, "Bản điện tử - trang")[0]
    return {"docx": to_docx, "odt": to_odt, "html": to_html}[kind](plan_structure(lines, path))


def truncated(rng: random.Random, data: bytes, kind: str) -> bytes:
    return data[:rng.randrange(1, len(data))]


def flipped(rng: random.Random, data: bytes, kind: str) -> bytes:
    damaged = bytearray(data)
    for _ in range(rng.choice((1, 4, 32))):
        damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
    return bytes(damaged)


def spliced(rng: random.Random, data: bytes, kind: str) -> bytes:
    at = rng.randrange(len(data))
    token = rng.choice(_TOKENS.get(kind, _TOKENS["zip"]))
    return data[:at] + token + data[at + rng.choice((0, 1, 5)):]


def entry_flipped(rng: random.Random, data: bytes, kind: str) -> bytes:
    """Bits flipped inside one entry's compressed bytes (its local header left whole)."""
    entry = rng.choice(zipfile.ZipFile(io.BytesIO(data)).infolist())
    start = entry.header_offset + 30 + len(entry.filename.encode()) + len(entry.extra)
    damaged = bytearray(data)
    for _ in range(rng.choice((1, 3, 20))):
        damaged[start + rng.randrange(max(entry.compress_size, 1))] ^= 1 << rng.randrange(8)
    return bytes(damaged)


def _rezipped(data: bytes, entries: Callable[[list[zipfile.ZipInfo]], list[zipfile.ZipInfo]],
              edit: Callable[[zipfile.ZipInfo, bytes], bytes] = lambda entry, body: body) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in entries(source.infolist()):
            # the entry's own date, not the clock's: a variant is the same bytes on every run (two runs
            # either side of a two-second tick differed)
            target.writestr(zipfile.ZipInfo(entry.filename, entry.date_time), edit(entry, source.read(entry)),
                            zipfile.ZIP_DEFLATED)
    return out.getvalue()


def entries_shuffled(rng: random.Random, data: bytes, kind: str) -> bytes:
    return _rezipped(data, lambda entries: rng.sample(entries, len(entries)))


def entry_dropped(rng: random.Random, data: bytes, kind: str) -> bytes:
    return _rezipped(data, lambda entries: [e for e in entries if e is not rng.choice(entries)])


def entry_edited(rng: random.Random, data: bytes, kind: str) -> bytes:
    victim = rng.choice(zipfile.ZipFile(io.BytesIO(data)).infolist()).filename

    def edit(entry: zipfile.ZipInfo, body: bytes) -> bytes:
        if entry.filename != victim or not body:
            return body
        at = rng.randrange(len(body))
        return body[:at] + bytes([rng.randrange(256)]) + body[at + rng.choice((0, 1, 10)):]

    return _rezipped(data, lambda entries: entries, edit)


_ANY = (truncated, flipped, spliced)
_ZIP = (entry_flipped, entries_shuffled, entry_dropped, entry_edited)
MUTATIONS = {"docx": _ANY + _ZIP, "odt": _ANY + _ZIP, "pdf": _ANY, "html": _ANY}


def document_variants(data: bytes, kind: str, seed: int, n: int) -> Iterator[DocumentVariant]:
    """``n`` hostile variants of the document ``data`` (a ``kind`` of KINDS), the same ones for the same seed."""
    for index in range(n):
        rng = random.Random(f"{seed}:{kind}:{index}")
        mutation = rng.choice(MUTATIONS[kind])
        yield DocumentVariant(kind, seed, index, mutation.__name__, mutation(rng, data, kind))


def document_outcome(data: bytes, path: Path) -> Outcome:
    """Read, parse and audit the document ``data`` written at ``path``; classify the result."""
    path.write_bytes(data)
    try:
        source = read_source(path)
    except KehoachError as exc:  # the reader's refusal: of the file or one of its pages, or a web page's line
        if exc.line is not None:
            return classify_error(exc, path, data.count(b"\n") + 1)
        return Outcome("located" if exc.path == str(path) else "unlocated", str(exc)[:300])
    except Exception as exc:  # the invariant: nothing but KehoachError escapes
        return Outcome("crash", f"reading: {type(exc).__name__}: {str(exc)[:200]}")
    try:
        run_audit(parse_sources([source]))
    except KehoachError as exc:
        return classify_error(exc, path, len(source.lines))
    except Exception as exc:
        return Outcome("crash", f"{type(exc).__name__}: {str(exc)[:200]}")
    return Outcome("package")
