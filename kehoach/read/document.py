"""One document model for every format a plan is issued or published in.

A reader per format (``kehoach/read/``: plain text, Markdown, DOCX, HTML, PDF,
scanned PDF) fills a ``Document``: a sequence of blocks, paragraphs (headings
among them) and tables, each with where it was read (page, for paged formats).
Nothing after the readers knows a format (docling's ``DoclingDocument`` is the
model: one backend per format, read by code that knows none).

The parser reads a document through its canonical text rendering
(``render``): the lines of the layout legal-document sites publish (a table row
as ``cell | cell |``, an empty data cell as a line break: see
``kehoach/parse/table_reader.py``). That rendering is "the text as read": it is
shipped in the package's ``source/`` folder beside the original file, and a
row's ``source_line`` is a line of it; ``Rendering.pages`` gives each line's
page and ``Rendering.confidences`` the OCR confidence of what it holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from itertools import zip_longest

# The widest a cell may reach, in columns (the HTML standard's cap on colspan; Word's tables stop at 63
# columns): a reader caps what a file states, so that a hostile span cannot make a grid of millions.
MAX_SPAN = 1000


@dataclass(frozen=True)
class Cell:
    """A table cell at its origin (the top-left of a merged area): the cells
    a merge covers are not listed; ``row_span``/``col_span`` say how far it reaches."""

    text: str
    row_span: int = 1
    col_span: int = 1
    header: bool = False
    confidence: float | None = None  # 0-100 when read by OCR; None when read from text


@dataclass(frozen=True)
class Table:
    """Rows of origin cells, in reading order; ``pages`` are the pages each row was read on."""

    rows: tuple[tuple[Cell, ...], ...]
    pages: tuple[int | None, ...] = ()

    def width(self) -> int:
        """The number of grid columns (the widest row, counting spans and covered cells)."""
        return max((len(row) for row in self.grid()), default=0)

    def grid(self) -> list[list[Cell | None]]:
        """The table as a full grid: each origin cell in its place, ``None`` where a
        merge from above or from the left covers the place."""
        grid: list[list[Cell | None]] = []
        covered: dict[tuple[int, int], bool] = {}
        for r, row in enumerate(self.rows):
            line: list[Cell | None] = []
            c = 0
            for cell in row:
                while covered.pop((r, c), False):
                    line.append(None)
                    c += 1
                line.append(cell)
                for dr in range(cell.row_span):
                    for dc in range(cell.col_span):
                        if dr or dc:
                            covered[(r + dr, c + dc)] = True
                c += 1
                for _ in range(cell.col_span - 1):
                    covered.pop((r, c), None)
                    line.append(None)
                    c += 1
            while covered.pop((r, c), False):
                line.append(None)
                c += 1
            grid.append(line)
        return grid


@dataclass(frozen=True)
class Paragraph:
    """A paragraph or heading (``level`` when the format says it is a heading)."""

    text: str
    level: int | None = None
    page: int | None = None
    confidence: float | None = None
    footnote: bool = False  # a footnote's text, already prefixed with its mark ('[1] …')


Block = Paragraph | Table


@dataclass(frozen=True)
class Document:
    """A plan as read: its blocks, the format, the reader and its page count."""

    blocks: tuple[Block, ...]
    format: str  # 'text', 'markdown', 'docx', 'html', 'pdf', 'scanned-pdf'
    reader: str  # the library and version that read it, e.g. 'python-docx 1.2.0'
    pages: int | None = None
    notes: tuple[str, ...] = field(default=())  # what the reader says of the document (said by inspect)


@dataclass(frozen=True)
class Rendering:
    """The canonical text of a document, line by line, with each line's page and OCR confidence."""

    lines: tuple[str, ...]
    pages: tuple[int | None, ...]
    confidences: tuple[float | None, ...]


# Control characters a document's text may carry (a NUL in a web page, a vertical tab Word uses for a
# line break) are spaces in the text as read: the text reader refuses them in a plain text.
_CONTROLS = {c: " " for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))}


def render(document: Document) -> Rendering:
    """The document as the text the parser reads (see the module's docstring)."""
    out = _Lines()
    for block in document.blocks:
        if isinstance(block, Table):
            _render_table(block, out)
        elif block.text.strip():
            out.add(" ".join(block.text.translate(_CONTROLS).split()), block.page, block.confidence)
    return Rendering(tuple(out.lines), tuple(out.pages), tuple(out.confidences))


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.pages: list[int | None] = []
        self.confidences: list[float | None] = []

    def add(self, line: str, page: int | None, confidence: float | None) -> None:
        self.lines.append(line)
        self.pages.append(page)
        self.confidences.append(confidence)


def _render_table(table: Table, out: _Lines) -> None:
    """Header rows as their cells then one inline '|' per column they do not
    reach (the site's rendering of a colspan); data rows cell by cell, a
    covered or empty cell as a line break ('|' starting a line), so that every
    data row has the table's width in cells."""
    width = table.width()
    for r, row in enumerate(table.grid()):
        page = table.pages[r] if r < len(table.pages) else None
        cells = [cell for cell in row if cell is not None]
        low = min((c.confidence for c in cells if c.confidence is not None), default=None)
        if cells and all(c.header for c in cells):
            missing = width - len(cells)
            padding = " |" + "|" * (missing - 1) if missing else ""
            out.add(" | ".join(_cell_text(c) for c in cells) + " |" + padding, page, low)
            continue
        line = ""
        for cell in row:
            text = _cell_text(cell) if cell is not None else ""
            if text:
                line += (" " if line else "") + text + " |"
            else:
                if line:
                    out.add(line, page, low)
                line = "|"
        if line:
            out.add(line, page, low)


def _cell_text(cell: Cell) -> str:
    # a cell's paragraphs and line breaks are one run of text: a break inside a
    # row would end the row for the table reader
    return " ".join(cell.text.replace("|", "/").translate(_CONTROLS).split())


# --- what readers of laid-out formats (DOCX, HTML, PDF pages) share -------------------------

# A row number as a table's first cell writes it ('1', '1.2', '1.2.', 'IV', 'II.'): the
# rows above the first numbered row are the header when the format does not mark it.
ROW_NUMBER = re.compile(r"^(?:\d+(?:[.,]\d+)*\.?|[IVXLC]+\.?)$")
# A paragraph that is only a rule ('-------', '____') under the issuer or the motto.
_RULE = re.compile(r"^[\s\-_=*–—]*$")


def mark_header_rows(rows: list[list[Cell]], marked: int) -> list[list[Cell]]:
    """Rows with their header flag: the ``marked`` rows the format calls header rows,
    else the rows above the first row numbered in its first cell (none if no row is)."""
    count = marked or next((r for r, row in enumerate(rows) if row and ROW_NUMBER.match(row[0].text.strip())), 0)
    return [[replace(c, header=r < count) for c in row] for r, row in enumerate(rows)]


def layout_rows(columns: list[list[str]]) -> tuple[tuple[Cell, ...], ...]:
    """A borderless table that lays lines out side by side (issuer left, national motto
    right; signer right): its columns' lines paired row by row, rules dropped, as the
    site layout renders them (``ỦY BAN NHÂN DÂN | CỘNG HÒA … |``)."""
    kept = [[line.strip() for line in column if not _RULE.match(line)] for column in columns]
    return tuple(tuple(Cell(line) for line in row) for row in zip_longest(*kept, fillvalue=""))
