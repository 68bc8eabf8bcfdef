"""From positioned text on pages to a document's blocks, whatever read the pages.

A text PDF (``kehoach/read/pdf.py``, pdfplumber) and a scanned one
(``kehoach/read/ocr.py``, tesseract) both give, for each page, lines of text
with their place and size and ruled tables as grids of cells; this module
turns them into paragraphs and tables (``kehoach/read/document.py``) the one
same way:

- the page's margins: page numbers and running heads (a text repeated in the
  top or bottom band of several pages) are dropped; footnotes (text smaller
  than the body's, below the body) are kept as footnotes, after the body;
- paragraphs: a line starts one when it is indented or set apart from the
  line above; a paragraph continues across a page break;
- tables: a table that goes on from the foot of one page to the top of the
  next is one table; the header rows it repeats there are dropped; a row the
  page break split is joined again;
- a row number OCR misread is put right by the numbering around it
  (``kehoach/read/row_numbers.py``);
- a line break inside a text is a space, except after ``-`` or ``/`` inside a
  word (the PDF has no space there: the break is the writer's) or, where the
  PDF does not say, where the document-number pattern says so
  (``2474/TTr-`` + ``STTTT``).
"""

from __future__ import annotations

import difflib
import re
import statistics
from dataclasses import dataclass, field

from kehoach.read.document import ROW_NUMBER, Block, Cell, Paragraph, Table
from kehoach.read.row_numbers import renumbered

# A band at the top and the bottom of a page: where running heads, page numbers and footers live.
_MARGIN_BAND = 0.07
_PAGE_NUMBER = re.compile(r"^[-–—\s]*(?:trang\s*)?\d{1,4}(?:\s*/\s*\d{1,4})?[-–—\s]*$", re.IGNORECASE)
_FOOTNOTE_MARK = re.compile(r"^(?:\[\d{1,3}\]|\d{1,3}[).]?\s)")
# A break after '-' or '/' inside a document number or a date is no space: '2474/TTr-' + 'STTTT', '06/' + '12/2023'.
_NUMBER_BREAK = re.compile(r"(?:\d+/(?:[^\s/]+[-/])*|\d+[-/])$")
_NUMBER_GOES_ON = re.compile(r"^[0-9A-ZĐ]")
_ROW_CODE_DIGITS = re.compile(r"\d")
_SAME_HEADER = 0.75  # how alike a repeated header's text must be to the first one's


@dataclass
class Line:
    """One line of text on a page, in points (text PDF) or pixels (scan), top-down."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float  # the text's height: a footnote's is smaller than the body's
    confidence: float | None = None  # OCR: the lowest word confidence (0-100)
    trailing_space: bool | None = None  # the PDF has a space after the last word (None: it does not say)
    chunks: tuple[tuple[float, str], ...] = ()  # runs of words apart by a wide gap: (x0, text)


@dataclass
class GridCell:
    """A cell of a ruled table at its origin, with its lines of text."""

    row: int
    col: int
    row_span: int
    col_span: int
    lines: list[Line] = field(default_factory=list)
    confidence: float | None = None


@dataclass
class Grid:
    """A ruled table as found on one page."""

    cells: list[GridCell]
    rows: int
    cols: int
    edges: tuple[float, ...]  # the columns' left and right edges
    top: float
    bottom: float


@dataclass
class Page:
    number: int  # 1-based
    width: float
    height: float
    lines: list[Line]  # outside the tables
    grids: list[Grid]


def grid_cells(boxes: list[tuple[float, float, float, float]], tolerance: float) -> tuple[list, tuple, tuple]:
    """Cells given as boxes (x0, top, x1, bottom) placed on the table's grid:
    [(row, col, row_span, col_span, box)], the column edges and the row edges."""
    xs = _edges([b[0] for b in boxes] + [b[2] for b in boxes], tolerance)
    ys = _edges([b[1] for b in boxes] + [b[3] for b in boxes], tolerance)
    placed = []
    for box in boxes:
        c0, c1 = _index(xs, box[0]), _index(xs, box[2])
        r0, r1 = _index(ys, box[1]), _index(ys, box[3])
        if c1 > c0 and r1 > r0:
            placed.append((r0, c0, r1 - r0, c1 - c0, box))
    return sorted(placed, key=lambda p: (p[0], p[1])), tuple(xs), tuple(ys)


def _edges(values: list[float], tolerance: float) -> list[float]:
    edges: list[float] = []
    for v in sorted(values):
        if not edges or v - edges[-1] > tolerance:
            edges.append(v)
    return edges


def _index(edges: list[float], value: float) -> int:
    return min(range(len(edges)), key=lambda i: abs(edges[i] - value))


def join_lines(lines: list[Line]) -> str:
    """The lines of one paragraph or cell as one text (see the module's docstring)."""
    text = ""
    for line in lines:
        piece = line.text.strip()
        if not piece:
            continue
        if text and not _joins_without_space(text, piece, previous_space(lines, line)):
            text += " "
        text += piece
    return text


def previous_space(lines: list[Line], line: Line) -> bool | None:
    i = lines.index(line)
    return lines[i - 1].trailing_space if i else None


def _joins_without_space(before: str, after: str, space: bool | None) -> bool:
    if not before.endswith(("-", "/")) or before[-2:-1].isspace():
        return False
    if space is not None:  # the PDF says whether a space ends the line
        return not space
    return bool(_NUMBER_BREAK.search(before.split()[-1]) and _NUMBER_GOES_ON.match(after))


def blocks_of(pages: list[Page]) -> list[Block]:
    """The document's blocks: body in reading order, then the footnotes."""
    body_size = _body_size(pages)
    heads = _running_heads(pages)
    left = _left_margin(pages, body_size)
    blocks: list[Block] = []
    footnotes: list[Paragraph] = []
    builder = _Builder(blocks, left, body_size, _body_bottom(pages))
    for page in pages:
        body, foot = _split_page(page, heads, body_size)
        footnotes.extend(_footnotes(foot, page.number))
        items: list[Line | Grid] = sorted([*body, *page.grids], key=lambda item: item.top)
        builder.new_page(page)
        for item in items:
            builder.add(item)
    builder.close()
    return blocks + footnotes


def _body_size(pages: list[Page]) -> float:
    sizes = [round(line.size, 1) for page in pages for line in page.lines]
    return statistics.median(sizes) if sizes else 10.0


def _left_margin(pages: list[Page], size: float) -> float:
    starts = [round(line.x0 / size) for page in pages for line in page.lines]
    return statistics.mode(starts) * size if starts else 0.0


def _body_bottom(pages: list[Page]) -> float:
    """The lowest a page's body reaches (a table cut by the page ends there)."""
    return max((item.bottom for page in pages for item in [*page.grids, *page.lines]
                if item.bottom < page.height * (1 - _MARGIN_BAND)), default=0.0)


def _in_band(line: Line, page: Page) -> bool:
    return line.bottom < page.height * _MARGIN_BAND or line.top > page.height * (1 - _MARGIN_BAND)


def _head_key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.split()).casefold())


def _running_heads(pages: list[Page]) -> set[str]:
    """Texts in the margin bands of more than one page (their page numbers aside)."""
    seen: dict[str, int] = {}
    for page in pages:
        for key in {_head_key(line.text) for line in page.lines if _in_band(line, page)}:
            seen[key] = seen.get(key, 0) + 1
    return {key for key, count in seen.items() if count > 1}


def _split_page(page: Page, heads: set[str], body_size: float) -> tuple[list[Line], list[Line]]:
    """The page's body lines and its foot (footnotes); margins dropped."""
    kept = [line for line in page.lines
            if not (_in_band(line, page) and (_PAGE_NUMBER.match(line.text) or _head_key(line.text) in heads))]
    lowest_body = max([0.0, *(grid.bottom for grid in page.grids),
                       *(line.bottom for line in kept if line.size >= body_size * 0.9)])
    foot = [line for line in kept if line.size < body_size * 0.9 and line.top >= lowest_body]
    return [line for line in kept if line not in foot], foot


def _footnotes(lines: list[Line], page: int) -> list[Paragraph]:
    notes: list[list[Line]] = []
    for line in lines:
        if _FOOTNOTE_MARK.match(line.text.strip()) or not notes:
            notes.append([line])
        else:
            notes[-1].append(line)
    return [Paragraph(join_lines(n), page=page, confidence=_lowest(n), footnote=True) for n in notes]


def _lowest(lines: list[Line]) -> float | None:
    return min((line.confidence for line in lines if line.confidence is not None), default=None)


class _Builder:
    """Adds a page's lines and grids to the blocks, joining what a page break split."""

    def __init__(self, blocks: list[Block], left: float, size: float, bottom: float) -> None:
        self.blocks = blocks
        self.left = left
        self.size = size
        self.bottom = bottom
        self.paragraph: list[Line] = []
        self.paragraph_page = 0
        self.page: Page | None = None
        self.first_on_page = True
        self.open_table: _OpenTable | None = None  # the table the previous item ended

    def new_page(self, page: Page) -> None:
        self.page = page
        self.first_on_page = True

    def add(self, item: Line | Grid) -> None:
        assert self.page is not None
        first, self.first_on_page = self.first_on_page, False
        if isinstance(item, Grid):
            self._flush()
            if first and self.open_table and self.open_table.continues(item, self.size):
                self.open_table.extend(item, self.page.number, cut=self.open_table.grid.bottom
                                       >= self.bottom - 2 * self.size)
                return
            self._close_table()
            self.open_table = _OpenTable(item, self.page.number)
            return
        if first and self.open_table is None and self.paragraph and not self._starts_paragraph(item, None):
            self.paragraph.append(item)  # a paragraph going on from the previous page
            return
        self._close_table()
        if len(item.chunks) > 1 or item.x0 > self.page.width / 2:
            self._flush()
            self.blocks.append(_borderless_row(item, self.page))
            return
        if self.paragraph and self._starts_paragraph(item, self.paragraph[-1]):
            self._flush()
        if not self.paragraph:
            self.paragraph_page = self.page.number
        self.paragraph.append(item)

    def _starts_paragraph(self, line: Line, above: Line | None) -> bool:
        if line.x0 > self.left + self.size * 0.8:
            return True
        return above is not None and line.top - above.bottom > self.size * 0.6

    def _flush(self) -> None:
        if self.paragraph:
            self.blocks.append(Paragraph(join_lines(self.paragraph), page=self.paragraph_page,
                                         confidence=_lowest(self.paragraph)))
            self.paragraph = []

    def _close_table(self) -> None:
        if self.open_table:
            self.blocks.append(self.open_table.table())
            self.open_table = None

    def close(self) -> None:
        self._flush()
        self._close_table()


def _borderless_row(line: Line, page: Page) -> Table:
    """A line of text set in columns without rules (the issuer beside the national
    motto, a signature on the right): a one-row table, an empty first cell when
    the text stands in the right half only."""
    chunks = line.chunks or ((line.x0, line.text),)
    cells = [Cell(text, confidence=line.confidence) for _, text in chunks]
    if chunks[0][0] > page.width / 2:
        cells.insert(0, Cell(""))
    return Table((tuple(cells),), (page.number,))


class _OpenTable:
    """A table being read, possibly over several pages."""

    def __init__(self, grid: Grid, page: int) -> None:
        self.grid = grid
        self.rows: list[list[GridCell]] = _rows(grid)
        self.pages: list[int] = [page] * len(self.rows)
        self.header = _header_rows(self.rows)

    def continues(self, grid: Grid, size: float) -> bool:
        """The grid at the top of a page goes on with this table: as many columns, at the same places."""
        if grid.cols != self.grid.cols or len(grid.edges) != len(self.grid.edges):
            return False
        return all(abs(a - b) <= size for a, b in zip(grid.edges, self.grid.edges, strict=True))

    def extend(self, grid: Grid, page: int, cut: bool) -> None:
        """Rows of the table's next page: its repeated header dropped, the row the
        page ``cut`` (the table reached the foot of the body) joined again."""
        rows = _rows(grid)
        repeated = 0
        while (repeated < len(rows) and repeated < self.header
               and _same_header_row(rows[repeated], self.rows[repeated])):
            repeated += 1
        rows = rows[repeated:]
        if rows and cut and _is_rest_of_row(rows[0], self.rows[-1]):
            self._join(self.rows[-1], rows.pop(0))
        self.rows.extend(rows)
        self.pages.extend([page] * len(rows))
        self.grid = grid

    def _join(self, row: list[GridCell], rest: list[GridCell]) -> None:
        by_col = {cell.col: cell for cell in row}
        for cell in rest:
            if cell.col in by_col:
                by_col[cell.col].lines.extend(cell.lines)
                by_col[cell.col].confidence = _min(by_col[cell.col].confidence, cell.confidence)

    def table(self) -> Table:
        rows = [[Cell(join_lines(c.lines), c.row_span, c.col_span, r < self.header, c.confidence) for c in row]
                for r, row in enumerate(self.rows)]
        data = list(zip(rows[self.header:], self.rows[self.header:], strict=True))
        firsts = renumbered([row[0] if grid and grid[0].col == 0 else None for row, grid in data])
        for (row, _), first in zip(data, firsts, strict=True):
            if first is not None:
                row[0] = first
        return Table(tuple(tuple(row) for row in rows), tuple(self.pages))


def _rows(grid: Grid) -> list[list[GridCell]]:
    rows: list[list[GridCell]] = [[] for _ in range(grid.rows)]
    for cell in sorted(grid.cells, key=lambda c: (c.row, c.col)):
        rows[cell.row].append(cell)
    return [row for row in rows if row]


def _texts(row: list[GridCell]) -> list[str]:
    return [" ".join(join_lines(c.lines).split()).casefold() for c in row]


def _same_header_row(row: list[GridCell], header: list[GridCell]) -> bool:
    """The row repeats the header row: the same cells in the same places, and (an OCR'd text
    may be misread in places) mostly the same text."""
    if [(c.col, c.row_span, c.col_span) for c in row] != [(c.col, c.row_span, c.col_span) for c in header]:
        return False
    a, b = " | ".join(_texts(row)), " | ".join(_texts(header))
    return a == b or difflib.SequenceMatcher(None, a, b).ratio() >= _SAME_HEADER


def _header_rows(rows: list[list[GridCell]]) -> int:
    """Header rows: those above the first row numbered in its first column ('1', '1.1', 'I')."""
    for r, row in enumerate(rows):
        if row[0].col == 0 and _is_row_code(join_lines(row[0].lines)):
            return r
    return 1 if len(rows) > 1 else 0


def _is_row_code(text: str) -> bool:
    text = text.strip()
    return bool(ROW_NUMBER.match(text)) and (bool(_ROW_CODE_DIGITS.search(text)) or len(text) <= 4)


def _is_rest_of_row(first: list[GridCell], last: list[GridCell]) -> bool:
    """The first row on the new page is the rest of the row the page cut: no number of its own
    where the row above has one."""
    own = next((c for c in first if c.col == 0), None)
    above = next((c for c in last if c.col == 0), None)
    return (own is not None and above is not None and not join_lines(own.lines)
            and _is_row_code(join_lines(above.lines)))


def _min(a: float | None, b: float | None) -> float | None:
    values = [v for v in (a, b) if v is not None]
    return min(values) if values else None
