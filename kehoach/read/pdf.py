"""Reading a plan issued as PDF: the text layer with pdfplumber, pages without one by OCR.

A page with text is read from its characters (pdfplumber, MIT): tables are
found by their ruling lines (``find_tables``), each cell's characters gathered
into lines of text; the rest of the page is lines. A page with no text (a
scan) is read by ``kehoach/read/ocr.py``; a document mixing both OCRs only the
image pages. ``kehoach/read/page_layout.py`` then makes paragraphs and tables
of the pages, the same way for both.

Bad input is one located error: ``FILE: page N: …`` (a damaged, truncated or
encrypted file, more pages than the limit ``KEHOACH_MAX_PDF_PAGES``, streams that
unpack beyond the input limits: ``kehoach/read/pdf_streams.py``). Pages
are read one at a time and their caches freed, so memory stays bounded.
"""

from __future__ import annotations

import bisect
import io
import logging
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfplumber.utils.exceptions import PdfminerException

from kehoach.core.errors import KehoachError
from kehoach.core.limits import limits
from kehoach.core.text import nfc
from kehoach.read.document import Document
from kehoach.read.ocr import ocr_reader, read_scanned_pages
from kehoach.read.page_layout import Grid, GridCell, Line, Page, blocks_of, grid_cells
from kehoach.read.pdf_streams import check_streams

# pdfminer logs what it finds wrong in a damaged file ('Invalid MediaBox in /Page, defaulting to US
# Letter') through the command's handler: not the product's lines, which are the located error this
# reader raises, or nothing where pdfminer read on.
logging.getLogger("pdfminer").setLevel(logging.ERROR)

SIGNATURE = b"%PDF-"
# Words further apart than this many text heights are in different columns (a borderless two-column line).
_COLUMN_GAP = 2.5


def is_pdf(data: bytes) -> bool:
    """The PDF signature, which the format allows anywhere in the first 1,024 bytes."""
    return SIGNATURE in data[:1024]


def read_pdf(data: bytes, name: str) -> Document:
    """A PDF's pages as a document (see the module's docstring)."""
    check_streams(data, name)
    pages: list[Page | None] = []
    with _opened(data, name) as pdf:
        count = _page_count(pdf, name)
        for number, page in enumerate(pdf.pages, 1):
            try:
                pages.append(text_page(page, number) if page.chars else None)
            except KehoachError:
                raise
            except Exception as exc:  # pdfminer's errors on a damaged page are of many types
                raise KehoachError(f"page {number}: cannot be read ({_reason(exc)}); the file is damaged",
                                   name) from None
            finally:
                page.close()
    scanned = [number for number, page in enumerate(pages, 1) if page is None]
    read = read_scanned_pages(data, scanned, name) if scanned else {}
    filled = [page if page is not None else read[number] for number, page in enumerate(pages, 1)]
    notes = (f"{len(scanned)} of {count} pages read by OCR: {_ranges(scanned)}",) if scanned else ()
    reader = f"pdfplumber {version('pdfplumber')}" + (f", {ocr_reader()}" if scanned else "")
    return Document(tuple(blocks_of(filled)), "scanned-pdf" if scanned else "pdf", reader, count, notes)


@contextmanager
def _opened(data: bytes, name: str) -> Iterator[pdfplumber.PDF]:
    """The PDF, open; each page is closed once read. Not closed by pdfplumber's ``close``: it flushes the
    pages and walks the page tree again, which on a damaged tree raises again (in any of pdfminer's types)
    and would hide the located error. The bytes are in memory: nothing else to release."""
    yield _open(data, name)


def _open(data: bytes, name: str) -> pdfplumber.PDF:
    try:
        return pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # a truncated or damaged file: pdfminer raises many types
        raise _refusal(exc, name) from None


def _refusal(exc: Exception, name: str) -> KehoachError:
    """What a file pdfminer cannot open is, said in one line."""
    cause = exc.args[0] if isinstance(exc, PdfminerException) and exc.args else exc
    if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)) or cause in (PDFPasswordIncorrect,
                                                                                   PDFEncryptionError):
        return KehoachError("page 1: the PDF is encrypted (password-protected); save an unprotected copy "
                            "and build from it", name)
    return KehoachError(f"page 1: not a readable PDF ({_reason(exc)}); the file is truncated or damaged", name)


def _page_count(pdf: pdfplumber.PDF, name: str) -> int:
    try:
        count = len(pdf.pages)
    except Exception as exc:  # pdfminer reads the page tree lazily
        raise _refusal(exc, name) from None
    if count == 0:
        raise KehoachError("page 1: the PDF has no pages", name)
    maximum = limits().max_pdf_pages
    if maximum and count > maximum:
        raise KehoachError(f"page {maximum + 1}: the PDF has {count:,} pages, more than {maximum:,} "
                           "(the limit KEHOACH_MAX_PDF_PAGES)", name)
    return count


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _ranges(numbers: list[int]) -> str:
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def text_page(page: pdfplumber.page.Page, number: int) -> Page:
    """One page with a text layer: its ruled tables and its other lines."""
    grids: list[tuple[Grid, tuple, tuple, dict]] = []
    for found in page.find_tables():
        placed, xs, ys = grid_cells([tuple(c) for c in found.cells], tolerance=2.0)
        if not placed:
            continue
        cells = [GridCell(r, c, rs, cs) for r, c, rs, cs, _ in placed]
        owner = {(r + dr, c + dc): cell for (r, c, rs, cs, _), cell in zip(placed, cells, strict=True)
                 for dr in range(rs) for dc in range(cs)}
        grid = Grid(cells, len(ys) - 1, len(xs) - 1, xs, ys[0], ys[-1])
        grids.append((grid, xs, ys, owner))
    loose: list[dict] = []
    in_cell: dict[int, list[dict]] = {}
    for char in page.chars:
        cell = _cell_of(char, grids)
        if cell is None:
            loose.append(char)
        else:
            in_cell.setdefault(id(cell), []).append(char)
    for grid, *_ in grids:
        for cell in grid.cells:
            cell.lines = _lines(in_cell.get(id(cell), []))
    return Page(number, float(page.width), float(page.height), _lines(loose), [g[0] for g in grids])


def _cell_of(char: dict, grids: list[tuple[Grid, tuple, tuple, dict]]) -> GridCell | None:
    x = (char["x0"] + char["x1"]) / 2
    y = (char["top"] + char["bottom"]) / 2
    for _, xs, ys, owner in grids:
        if xs[0] <= x <= xs[-1] and ys[0] <= y <= ys[-1]:
            return owner.get((max(bisect.bisect(ys, y) - 1, 0), max(bisect.bisect(xs, x) - 1, 0)))
    return None


def _lines(chars: list[dict]) -> list[Line]:
    """Characters as lines of text, top-down: a character is on a line when it
    overlaps the line's first character vertically."""
    rows: list[list[dict]] = []
    for char in sorted(chars, key=lambda ch: (ch["top"], ch["x0"])):
        if rows and char["top"] < rows[-1][0]["top"] + rows[-1][0]["size"] * 0.5:
            rows[-1].append(char)
        else:
            rows.append([char])
    return [line for row in rows if (line := _line(sorted(row, key=lambda ch: ch["x0"]))) is not None]


def _line(chars: list[dict]) -> Line | None:
    visible = [ch for ch in chars if not ch["text"].isspace()]
    if not visible:
        return None
    size = statistics.median(ch["size"] for ch in visible)
    chunks: list[list] = []  # [x0, text]
    previous = None
    for ch in chars:
        if ch["text"].isspace():
            if chunks and not chunks[-1][1].endswith(" "):
                chunks[-1][1] += " "
            previous = ch
            continue
        gap = ch["x0"] - previous["x1"] if previous is not None else 0.0
        if not chunks or gap > size * _COLUMN_GAP:
            chunks.append([ch["x0"], ch["text"]])
        else:
            chunks[-1][1] += (" " if gap > size * 0.2 and not chunks[-1][1].endswith(" ") else "") + ch["text"]
        previous = ch
    parts = tuple((x0, nfc(" ".join(text.split()))) for x0, text in chunks)
    return Line(nfc(" ".join(text for _, text in parts)), visible[0]["x0"], visible[-1]["x1"],
                min(ch["top"] for ch in visible), max(ch["bottom"] for ch in visible), size,
                trailing_space=chars[-1]["text"].isspace(), chunks=parts if len(parts) > 1 else ())
