"""Writes a plan text as the PDF a province issues, for the PDF and scan readers' tests.

The plan is taken as the parser reads it (``kehoach.parse.table_reader``):
each line a paragraph, each table its header (rebuilt as merged cells from the
columns the parser found) and its rows of cells, the other '|' lines as
borderless two-column lines (issuer and motto, the signature), footnotes at
the foot of the last page. Nothing of the plan's content is written here.

reportlab (BSD) draws it, with a hand-made layout rather than its Platypus
tables: the layout must do what Word does and Platypus does not (break a long
word after '-' or '/', keep the space a wrapped line ends with, split a row
across a page break), and be exact about it. LibreOffice from a DOCX would
need a 600 MB install and the DOCX renderer of another branch.
DejaVu (``fonts-dejavu-core``, installed by the Makefile) has the Vietnamese glyphs.

``scan`` rasterises pages (pypdfium2) with a skew, noise and one page turned,
as a sheet-feed scanner does, and writes them back as image-only pages.
"""

from __future__ import annotations

import io
import random
import re
from dataclasses import dataclass, field

import pypdfium2
from PIL import Image, ImageFilter
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from kehoach.parse.appendix_blocks import FOOTNOTE
from kehoach.parse.table_reader import is_header_start, is_table_line, line_cells, read_table

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
pdfmetrics.registerFont(TTFont("Body", FONT_DIR + "DejaVuSans.ttf"))
pdfmetrics.registerFont(TTFont("Body-Bold", FONT_DIR + "DejaVuSans-Bold.ttf"))

WIDTH, HEIGHT = A4
LEFT, RIGHT, TOP, BOTTOM = 57.0, 42.0, 60.0, 62.0
TEXT = (10.5, 14.0)  # size, leading
CELL = (8.5, 10.5)
NOTE = (7.5, 9.0)
PAD = 3.0
INDENT = 28.0


@dataclass
class Plan:
    """A plan's blocks: ('para', text), ('row', cells), ('table', header grid, rows), ('note', text)."""

    blocks: list[tuple] = field(default_factory=list)


def plan_blocks(lines: tuple[str, ...], path: str) -> Plan:
    plan = Plan()
    i = 0
    while i < len(lines):
        line = lines[i]
        if is_header_start(line):
            table = read_table(lines, i, path)
            plan.blocks.append(("table", header_grid(table.columns), [[c.text for c in r.cells] for r in table.rows]))
            i = table.end_line
            continue
        if is_table_line(line):
            plan.blocks.append(("row", line_cells(line)))
        elif FOOTNOTE.match(line.strip()):
            plan.blocks.append(("note", line.strip()))
        elif line.strip():
            plan.blocks.append(("para", line.strip()))
        i += 1
    return plan


def header_grid(columns) -> list[list[tuple[str, int, int, int]]]:
    """Header rows as origin cells (label, column, row span, column span) from the columns' label paths."""
    depth = max(len(c.labels) for c in columns)
    rows = []
    for r in range(depth):
        row = []
        for c, column in enumerate(columns):
            if r >= len(column.labels):
                continue
            if c and columns[c - 1].labels[:r + 1] == column.labels[:r + 1]:
                continue
            span = 1
            while c + span < len(columns) and columns[c + span].labels[:r + 1] == column.labels[:r + 1]:
                span += 1
            row.append((column.labels[r], c, depth - r if r == len(column.labels) - 1 else 1, span))
        rows.append(row)
    return rows


def atoms(text: str) -> list[str]:
    """Pieces a line may break after: a word with its space, or a word's part ending in '-' or '/'."""
    return re.findall(r"[^\s\-/]*[-/]+|[^\s\-/]+\s*|\s+", text + " ")


def wrap(text: str, font: str, size: float, width: float, first_indent: float = 0.0) -> list[str]:
    """Greedy wrap; a line keeps the space it ends with (as Word's PDFs do)."""
    lines: list[str] = []
    current = ""
    for atom in atoms(text):
        room = width - (first_indent if not lines else 0.0)
        if current and pdfmetrics.stringWidth((current + atom).rstrip(), font, size) > room:
            lines.append(current)
            current = atom.lstrip()
        else:
            current += atom
    if current.strip():
        lines.append(current)
    return [line if line.strip() else "" for line in lines][:] or [""]


class Writer:
    def __init__(self, head: str) -> None:
        self.buffer = io.BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=A4)
        self.head = head
        self.page = 1
        self.split_rows = 0  # rows the page's foot cut in two
        self.repeated_headers = 0
        self.y = TOP  # from the top of the page
        self._furniture()

    def _furniture(self) -> None:
        c = self.canvas
        c.setFont("Body", 8)
        c.drawCentredString(WIDTH / 2, HEIGHT - 30, self.head)
        c.drawCentredString(WIDTH / 2, 30, str(self.page))

    def new_page(self) -> None:
        self.canvas.showPage()
        self.page += 1
        self.y = TOP
        self._furniture()

    def room(self) -> float:
        return HEIGHT - BOTTOM - self.y

    def text(self, x: float, line: str, font: str, size: float, leading: float) -> None:
        self.canvas.setFont(font, size)
        self.canvas.drawString(x, HEIGHT - self.y - leading + (leading - size) / 2 + 1.5, line)

    def paragraph(self, text: str) -> None:
        size, leading = TEXT
        for n, line in enumerate(wrap(text, "Body", size, WIDTH - LEFT - RIGHT, INDENT)):
            if self.room() < leading:
                self.new_page()
            self.text(LEFT + (INDENT if n == 0 else 0.0), line, "Body", size, leading)
            self.y += leading
        self.y += 5.0

    def borderless(self, cells: list[str]) -> None:
        size, leading = TEXT
        if self.room() < leading:
            self.new_page()
        split = LEFT + (WIDTH - LEFT - RIGHT) * 0.4
        spans = [(LEFT, split), (split, WIDTH - RIGHT)]
        for (x0, x1), text in zip(spans, cells, strict=False):
            if text:
                fit = min(size, size * (x1 - x0 - 6) / pdfmetrics.stringWidth(text, "Body-Bold", size))
                self.canvas.setFont("Body-Bold", fit)
                self.canvas.drawCentredString((x0 + x1) / 2, HEIGHT - self.y - leading + 4, text)
        self.y += leading + 5.0

    def notes(self, notes: list[str]) -> None:
        size, leading = NOTE
        lines = [w for note in notes for w in wrap(note, "Body", size, WIDTH - LEFT - RIGHT)]
        if self.room() < len(lines) * leading + 12:
            self.new_page()
        self.y = HEIGHT - BOTTOM - len(lines) * leading
        self.canvas.line(LEFT, HEIGHT - self.y + 4, LEFT + 120, HEIGHT - self.y + 4)
        for line in lines:
            self.text(LEFT, line, "Body", size, leading)
            self.y += leading

    def table(self, header: list[list[tuple]], rows: list[list[str]]) -> None:
        widths = column_widths(rows, len(rows[0]) if rows else 1, header)
        edges = [LEFT]
        for w in widths:
            edges.append(edges[-1] + w)
        self._header(header, edges)
        for row in rows:
            self._row(row, edges, header)
        self.y += 8.0

    def _header(self, header: list[list[tuple]], edges: list[float]) -> None:
        size, leading = CELL
        heights = []
        for row in header:
            tallest = max((len(wrap(label, "Body-Bold", size, edges[c + span] - edges[c] - 2 * PAD))
                           for label, c, rows, span in row if rows == 1), default=1)
            heights.append(tallest * leading + 2 * PAD)
        if self.room() < sum(heights) + 3 * leading:
            self.new_page()
        tops = [self.y]
        for h in heights:
            tops.append(tops[-1] + h)
        for r, row in enumerate(header):
            for label, c, rows, span in row:
                x0, x1, top, bottom = edges[c], edges[c + span], tops[r], tops[r + rows]
                self.canvas.rect(x0, HEIGHT - bottom, x1 - x0, bottom - top)
                for n, line in enumerate(wrap(label, "Body-Bold", size, x1 - x0 - 2 * PAD)):
                    self.canvas.setFont("Body-Bold", size)
                    self.canvas.drawCentredString((x0 + x1) / 2, HEIGHT - top - PAD - (n + 1) * leading + 2.5, line)
        self.y = tops[-1]

    def _row(self, row: list[str], edges: list[float], header: list[list[tuple]]) -> None:
        size, leading = CELL
        wrapped = [wrap(t, "Body", size, edges[c + 1] - edges[c] - 2 * PAD) if t else [] for c, t in enumerate(row)]
        while wrapped:
            fits = int((self.room() - 2 * PAD) // leading)
            tallest = max(len(w) for w in wrapped) or 1
            if fits >= tallest:
                part, wrapped = wrapped, []
            elif fits >= 2 and tallest > 3:  # a tall row is split at the page's foot, as Word does
                part, wrapped = [w[:fits] for w in wrapped], [w[fits:] for w in wrapped]
            else:
                self.new_page()
                self._header(header, edges)
                self.repeated_headers += 1
                continue
            self._cells(part, edges, max(len(w) for w in part) or 1)
            if wrapped:
                self.split_rows += 1
                self.new_page()
                self._header(header, edges)
                self.repeated_headers += 1

    def _cells(self, part: list[list[str]], edges: list[float], lines: int) -> None:
        size, leading = CELL
        height = lines * leading + 2 * PAD
        for c, cell in enumerate(part):
            self.canvas.rect(edges[c], HEIGHT - self.y - height, edges[c + 1] - edges[c], height)
            for n, line in enumerate(cell):
                self.canvas.setFont("Body", size)
                self.canvas.drawString(edges[c] + PAD, HEIGHT - self.y - PAD - (n + 1) * leading + 2.5, line)
        self.y += height

    def pdf(self) -> bytes:
        self.canvas.save()
        return self.buffer.getvalue()


def column_widths(rows: list[list[str]], width: int, header: list[list[tuple]]) -> list[float]:
    """Each column as wide as its longest word at least (its own header label's too, in bold),
    the rest shared by the mean length of its texts."""
    total = WIDTH - LEFT - RIGHT
    least, weights = [], []
    for c in range(width):
        texts = [r[c] for r in rows if c < len(r) and r[c]]
        words = [a.strip() for t in texts for a in atoms(t)] or ["-"]
        labels = [a.strip() for row in header for label, col, _, span in row if col == c and span == 1
                  for a in atoms(label)]
        least.append(max([pdfmetrics.stringWidth(w, "Body", CELL[0]) for w in words]
                         + [pdfmetrics.stringWidth(w, "Body-Bold", CELL[0]) for w in labels]) + 2 * PAD + 2)
        weights.append(min(max(sum(len(t) for t in texts) / len(texts) if texts else 4.0, 5.0), 70.0))
    spare = max(total - sum(least), 0.0)
    return [m + spare * w / sum(weights) for m, w in zip(least, weights, strict=True)]


def text_pdf(lines: tuple[str, ...], path: str, head: str) -> tuple[bytes, Writer]:
    """The plan as a text PDF (see the module's docstring), and the writer (what it split and repeated)."""
    writer = Writer(head)
    notes = []
    for block in plan_blocks(lines, path).blocks:
        kind = block[0]
        if kind == "para":
            writer.paragraph(block[1])
        elif kind == "row":
            writer.borderless(block[1])
        elif kind == "table":
            writer.table(block[1], block[2])
        else:
            notes.append(block[1])
    if notes:
        writer.notes(notes)
    return writer.pdf(), writer


def page_texts(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


def scan(pdf: bytes, pages: list[int], dpi: int = 300, seed: int = 7) -> bytes:
    """The PDF with ``pages`` (1-based) as scanned images: skewed about 1°, noisy,
    the middle one of them turned 90° (a landscape sheet); the other pages kept as text.
    A page's skew and dust depend on its number, not on the other pages scanned: a page
    scanned with a few others is the page of the whole document's scan (a turn by 90° is
    undone without loss), so a test reads a few pages as the benchmark reads them all."""
    document = pypdfium2.PdfDocument(pdf)
    turned = pages[len(pages) // 2]
    for number in pages:
        rng = random.Random(f"{seed}:{number}")
        image = document[number - 1].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        image = image.rotate(rng.choice([-1.0, -0.7, 0.8, 1.1]), resample=Image.BICUBIC, expand=False, fillcolor=255)
        image = _noise(image, rng)
        if number == turned:
            image = image.rotate(90, expand=True)
        out = io.BytesIO()
        image.save(out, format="PDF", resolution=dpi)
        page = pypdfium2.PdfDocument(out.getvalue())
        document.del_page(number - 1)
        document.import_pages(page, [0], index=number - 1)
    out = io.BytesIO()
    document.save(out)
    document.close()
    return out.getvalue()


def _noise(image: Image.Image, rng: random.Random) -> Image.Image:
    """Dust and a slight blur, as a scanner's glass leaves: a dark speck in every 5,000 pixels
    (about 1,700 on an A4 page at 300 dpi)."""
    pixels = image.load()
    w, h = image.size
    for _ in range(w * h // 5000):
        pixels[rng.randrange(w), rng.randrange(h)] = 0
    return image.filter(ImageFilter.GaussianBlur(0.6))
