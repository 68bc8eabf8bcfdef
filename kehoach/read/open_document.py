"""Plans saved as OpenDocument text (.odt, LibreOffice's format), read from its content.xml.

Cheap to support beside .docx: one XML part, read with lxml (python-docx's XML
layer). Paragraphs and headings (``text:h`` with its outline level) in body
order, lists' items as paragraphs, sections read through; tables with their
merged cells at the origin (``table:number-columns-spanned`` /
``number-rows-spanned``; the ``table:covered-table-cell`` a merge covers is
skipped), header rows from ``table:table-header-rows`` or else the rows above the
first numbered one; footnotes (``text:note``) as ``[n]`` where they stand and
``[n] text`` after the body. A two-column table drawing no border (issuer left,
motto right) is laid out line by line, as in a Word document. LibreOffice's
automatic list numbers are computed from list styles: they are not read back
(said in the document's notes when the text has numbered lists).

The archive is checked as a Word document's is (cut off, ZIP bomb limits).
"""

from __future__ import annotations

import io
import zipfile
from importlib.metadata import version

from lxml import etree

from kehoach.core.errors import KehoachError
from kehoach.read.document import Block, Cell, Document, Paragraph, Table, layout_rows, mark_header_rows
from kehoach.read.word_document import ARCHIVE_DAMAGE, check_archive

OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
FO = "{urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0}"
_MIMETYPE = b"mimetypeapplication/vnd.oasis.opendocument.text"
_ODF = b"mimetypeapplication/vnd.oasis.opendocument."
_MAX_REPEAT = 1000  # a row or cell repeated further is LibreOffice padding a sheet, never a plan's content


def recognises(data: bytes) -> bool:
    """A ZIP archive whose first entry is the mimetype of an OpenDocument text; or, its entries written in
    another order (the mimetype not first, as ODF asks, but in the central directory at the end), one naming
    both ``mimetype`` and ``content.xml`` and no other kind of OpenDocument first (``read`` checks the kind)."""
    head = data[:200]
    if not data.startswith(b"PK\x03\x04") or _MIMETYPE in head:
        return _MIMETYPE in head
    return _ODF not in head and all(part in data[-65536:] for part in (b"mimetype", b"content.xml"))


def read(data: bytes, name: str) -> Document:
    check_archive(data, name, "content.xml", "OpenDocument text")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        kind = archive.read("mimetype").decode("ascii", "replace").strip()
        content = archive.read("content.xml")
        root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
    except ARCHIVE_DAMAGE as exc:
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise KehoachError(f"the OpenDocument text is damaged ({reason}); open it in LibreOffice and save it "
                           "again", name) from None
    if not kind.startswith(_MIMETYPE.removeprefix(b"mimetype").decode()):  # a text, its template or master
        raise KehoachError(f"an OpenDocument file that is not a text ({kind[:80]}): a spreadsheet, presentation or "
                           "drawing?", name)
    body = root.find(f"{OFFICE}body/{OFFICE}text")
    if body is None:
        raise KehoachError("an OpenDocument file without a text body (a spreadsheet or a drawing?)", name)
    reader = _Reader(root)
    blocks = list(reader.blocks(body))
    blocks += [Paragraph(f"[{n}] {text}", footnote=True) for n, text in enumerate(reader.notes, 1)]
    notes = (("the document has numbered lists: their automatic numbers are not read from .odt",)
             if reader.numbered else ())
    return Document(tuple(blocks), "odt", f"lxml {version('lxml')}", None, notes)


class _Reader:
    def __init__(self, root: etree._Element) -> None:
        self.bordered = {s.get(STYLE + "name") for s in root.iter(STYLE + "style") if _draws_border(s)}
        self.notes: list[str] = []
        self.numbered = False

    def blocks(self, parent: etree._Element):
        for child in parent:
            if child.tag in (TEXT + "p", TEXT + "h"):
                level = child.get(TEXT + "outline-level") if child.tag == TEXT + "h" else None
                yield Paragraph(self.text(child), int(level) if level and level.isdigit() else None)
            elif child.tag == TABLE + "table":
                yield self.table(child)
            elif child.tag == TEXT + "list":
                self.numbered = self.numbered or bool(child.get(TEXT + "style-name"))
                for item in child.iterchildren(TEXT + "list-item", TEXT + "list-header"):
                    yield from self.blocks(item)
            elif child.tag in (TEXT + "section", TEXT + "soft-page-break"):
                yield from self.blocks(child)

    def text(self, element: etree._Element) -> str:
        parts: list[str] = [element.text or ""]
        for child in element:
            if child.tag == TEXT + "note":
                body = child.find(TEXT + "note-body")
                self.notes.append(" ".join(self.text(p) for p in body.iter(TEXT + "p")) if body is not None else "")
                parts.append(f"[{len(self.notes)}]")
            elif child.tag in (TEXT + "s", TEXT + "tab", TEXT + "line-break"):
                parts.append(" " * min(int(child.get(TEXT + "c", "1") or 1), 8) if child.tag == TEXT + "s" else " ")
            elif child.tag not in (OFFICE + "annotation", TEXT + "bookmark-start"):
                parts.append(self.text(child))
            parts.append(child.tail or "")
        return "".join(parts)

    def table(self, table: etree._Element) -> Block:
        rows: list[list[tuple[list[str], int, int]]] = []
        marked = 0
        bordered = False
        for row, header in _rows(table):
            cells = []
            for cell in row:
                if cell.tag == TABLE + "covered-table-cell":
                    continue
                bordered = bordered or cell.get(TABLE + "style-name") in self.bordered
                lines = [self.text(p) for p in cell.iter(TEXT + "p", TEXT + "h")]
                span = _count(cell, "number-columns-spanned")
                for _ in range(_count(cell, "number-columns-repeated") if not any(lines) else 1):
                    cells.append((lines, _count(cell, "number-rows-spanned"), span))
            if header and marked == len(rows):
                marked += 1
            rows.append(cells)
        model = [[Cell("\n".join(lines), rs, cs) for lines, rs, cs in row] for row in rows]
        width = Table(tuple(tuple(r) for r in model)).width()
        if width == 2 and not bordered:
            columns = [[line for row in rows for k, (lines, _, _) in enumerate(row) if k == c for line in lines]
                       for c in range(2)]
            return Table(layout_rows(columns))
        return Table(tuple(tuple(r) for r in mark_header_rows(model, marked)))


def _rows(table: etree._Element):
    """(row element, in the header rows?) in order, through row groups; repeated empty rows once."""
    for child in table:
        if child.tag == TABLE + "table-row":
            for _ in range(min(_count(child, "number-rows-repeated"), _MAX_REPEAT) if _has_text(child) else 1):
                yield child, False
        elif child.tag in (TABLE + "table-header-rows", TABLE + "table-rows", TABLE + "table-row-group"):
            for row, _ in _rows(child):
                yield row, child.tag == TABLE + "table-header-rows"


def _has_text(element: etree._Element) -> bool:
    return any(t.strip() for t in element.itertext())


def _count(element: etree._Element, attribute: str) -> int:
    value = element.get(TABLE + attribute) or "1"
    return max(1, min(int(value), _MAX_REPEAT)) if value.isdigit() else 1


def _draws_border(style: etree._Element) -> bool:
    properties = style.find(STYLE + "table-cell-properties")
    if properties is None:
        return False
    return any(v and v != "none" for k, v in properties.attrib.items() if k.startswith(FO + "border"))
