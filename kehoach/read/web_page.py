"""Plans saved as web pages (a legal-text site's page, Word's or LibreOffice's HTML export).

Parsed with lxml.html (libxml2's HTML parser: already installed with python-docx,
whose XML layer it is; fast, and it repairs the broken markup sites serve).
The page's chrome (``reference/page_chrome.csv``: navigation, banners, scripts,
forms, side panels by tag, ARIA role or class) is dropped, and so are the markers
crawls leave in text (``reference/page_leftovers.csv``). Block elements become
paragraphs (``<h1>``-``<h6>`` headings with their level, ``<br>`` a line break);
tables keep their ``rowspan``/``colspan`` as the model's spans, header rows being
the ``<thead>``/``<th>`` rows at the top, else the rows above the first numbered
one. A borderless two-column table (issuer left, motto right) is laid out line by
line. The text is decoded from the charset the page declares, else UTF-8, strictly.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.metadata import version

import lxml.html
from lxml import etree

from kehoach.core.errors import KehoachError
from kehoach.core.vocabularies import vocabulary
from kehoach.read.document import (
    MAX_SPAN,
    Block,
    Cell,
    Document,
    Paragraph,
    Table,
    layout_rows,
    mark_header_rows,
)

_SIGNATURE = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]", re.I | re.S)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.I)
_BLOCK = frozenset(("p", "div", "section", "article", "main", "body", "blockquote", "pre", "li", "ul", "ol", "dl",
                    "dt", "dd", "center", "address", "figure", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6",
                    "caption", "hr"))
_HEADING = re.compile(r"^h([1-6])$")
_RULED = re.compile(r"border[\w-]*\s*:[^;]*\b(?:solid|double|dotted|dashed)", re.I)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")


def recognises(data: bytes) -> bool:
    """A page starting with ``<!DOCTYPE html>`` or ``<html`` (after an optional BOM,
    XML declaration and comments)."""
    head = data[:4096].removeprefix(b"\xef\xbb\xbf")
    return bool(_SIGNATURE.match(head))


def read(data: bytes, name: str) -> Document:
    text = _decoded(data, name)
    try:
        root = lxml.html.document_fromstring(_XML_DECLARATION.sub("", text, count=1))
    except (etree.LxmlError, ValueError) as exc:
        raise KehoachError(f"the web page cannot be parsed ({' '.join(str(exc).split())[:160]})", name) from None
    page = _Page()
    page.walk(root.find("body") if root.find("body") is not None else root)
    page.flush()
    return Document(tuple(page.blocks), "html", f"lxml {version('lxml')}")


def _decoded(data: bytes, name: str) -> str:
    declared = _CHARSET.search(data[:4096])
    encoding = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    try:
        return data.removeprefix(b"\xef\xbb\xbf").decode(encoding)
    except LookupError:
        raise KehoachError(f"the web page declares an unknown charset {encoding!r}", name) from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise KehoachError(f"the web page is not valid {encoding} (byte 0x{data[exc.start]:02x} at offset "
                           f"{exc.start}): save it again as UTF-8", name, line) from None


@cache
def _chrome() -> dict[str, frozenset[str]]:
    kinds: dict[str, set[str]] = {}
    for row in vocabulary("page_chrome"):
        kinds.setdefault(row["kind"], set()).add(row["value"])
    return {k: frozenset(v) for k, v in kinds.items()}


@cache
def _leftovers() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(r["pattern"]) for r in vocabulary("page_leftovers"))


def _is_chrome(element: etree._Element, tag: str) -> bool:
    chrome = _chrome()
    if tag in chrome.get("tag", ()) or element.get("role") in chrome.get("role", ()):
        return True
    words = set(re.split(r"[\s_-]+", f"{element.get('class', '')} {element.get('id', '')}".lower()))
    return bool(words & chrome.get("class", frozenset()))


def _text(text: str) -> str:
    for pattern in _leftovers():
        text = pattern.sub("", text)
    return " ".join(text.split())


class _Page:
    """Blocks gathered while walking the page: inline text runs until a block ends them."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.run: list[str] = []

    def flush(self, level: int | None = None) -> None:
        text = _text("".join(self.run))
        if text:
            self.blocks.append(Paragraph(text, level))
        self.run = []

    def walk(self, element: etree._Element) -> None:
        if element.text:
            self.run.append(element.text)
        for child in element:
            tag = child.tag.lower() if isinstance(child.tag, str) else ""
            if not tag or _is_chrome(child, tag):
                pass
            elif tag == "table":
                self.flush()
                for caption in child.xpath("./caption"):  # the table's title, above it
                    self.walk(caption)
                    self.flush()
                self.blocks.append(_table(child))
            elif tag == "br":
                self.flush()
            elif tag in _BLOCK:
                self.flush()
                self.walk(child)
                heading = _HEADING.match(tag)
                self.flush(int(heading.group(1)) if heading else None)
            else:
                self.walk(child)
            if child.tail:
                self.run.append(child.tail)

    def lines(self) -> list[str]:
        """Every line gathered, a nested table's cells each a line."""
        out: list[str] = []
        for block in self.blocks:
            if isinstance(block, Paragraph):
                out.append(block.text)
            else:
                out.extend(c.text for row in block.rows for c in row if c.text)
        return out


def _cell_lines(cell: etree._Element) -> list[str]:
    page = _Page()
    page.walk(cell)
    page.flush()
    return page.lines()


def _span(cell: etree._Element, attribute: str, cap: int) -> int:
    """A cell's span as stated, within 1 and ``cap`` (a rowspan reaches no further than the rows left)."""
    value = (cell.get(attribute) or "1").strip()
    return max(1, min(int(value), cap)) if value.isdigit() else 1


def _table(table: etree._Element) -> Block:
    rows = table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")
    heads = set(table.xpath("./thead/tr"))
    origins: list[list[tuple[list[str], int, int]]] = []
    marked = 0
    for r, row in enumerate(rows):
        cells = row.xpath("./td|./th")
        if cells and marked == r and (row in heads or all(c.tag.lower() == "th" for c in cells)):
            marked += 1
        origins.append([(_cell_lines(c), _span(c, "rowspan", len(rows) - r), _span(c, "colspan", MAX_SPAN))
                        for c in cells])
    model = Table(tuple(tuple(Cell("\n".join(lines), rs, cs) for lines, rs, cs in row) for row in origins))
    if model.width() == 2 and not marked and not _ruled(table):
        grid = model.grid()
        columns = [[line for r, row in enumerate(grid) for c, cell in enumerate(row)
                    if c == k and cell is not None for line in origins[r][_origin_index(row, c)][0]]
                   for k in range(2)]
        return Table(layout_rows(columns))
    rows_marked = mark_header_rows([list(row) for row in model.rows], marked)
    return Table(tuple(tuple(row) for row in rows_marked))


def _ruled(table: etree._Element) -> bool:
    """Whether the table draws lines: a ``border`` attribute, or a solid border in its style or in
    its cells' (Word's HTML export rules the cells of a table styled ``border:none``)."""
    if (table.get("border") or "0").strip() not in ("", "0"):
        return True
    styled = [table, *table.xpath("./tr/td|./tr/th|./*/tr/td|./*/tr/th")]
    return any(_RULED.search(e.get("style") or "") for e in styled)


def _origin_index(row: list[Cell | None], column: int) -> int:
    """The index among the row's origin cells of the cell at ``column``."""
    return sum(1 for cell in row[:column] if cell is not None)
