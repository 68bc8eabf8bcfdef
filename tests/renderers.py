"""A plan text written as the formats it is issued in (DOCX, ODT, HTML), for the readers' tests.

The structure comes from the text as the parser reads it, never from its content:
each appendix table is read by the table reader (``read_table``: its column tree
and its rows), other runs of ``|`` lines are layout tables (the issuer and the
motto side by side, the signer), ``[n] …`` lines after the body are footnotes
and ``[n]`` in a paragraph is their reference. A table is then written as a
document would hold it: header cells merged by the column tree (a label over
several columns spans them, a label with nothing under it spans down), a group
row's name spanning the empty cells after it, the layout table borderless with
one paragraph per line, footnotes as Word footnotes or as a page's notes. One walk over
the blocks (``_write``), one writer per format.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Protocol

import docx
from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

from kehoach.parse.table_reader import PipeTable, is_header_start, line_cells, read_table

_NOTE = re.compile(r"^\[(\d+)\] (.*)$")
_REFERENCE = re.compile(r"\[(\d+)\]")
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@dataclass
class HeaderCell:
    text: str
    row_span: int
    col_span: int


@dataclass
class Grid:
    """A table as written: header rows of merged cells, data rows of (text, column span)."""

    width: int
    header: list[list[HeaderCell]]
    rows: list[list[tuple[str, int]]]


@dataclass
class Plan:
    blocks: list[str | Grid | list[list[str]]] = field(default_factory=list)  # paragraph, table, layout columns
    notes: dict[str, str] = field(default_factory=dict)


def plan_structure(lines: tuple[str, ...], path: str = "plan.txt") -> Plan:
    plan = Plan()
    i = 0
    while i < len(lines):
        line = lines[i]
        note = _NOTE.match(line)
        if is_header_start(line):
            table = read_table(lines, i, path)
            plan.blocks.append(_grid(table))
            i = table.end_line
            continue
        if "|" in line:
            run = []
            while i < len(lines) and "|" in lines[i] and not is_header_start(lines[i]):
                run.append(line_cells(lines[i]))
                i += 1
            width = max(len(r) for r in run)
            plan.blocks.append([[r[c] if c < len(r) else "" for r in run] for c in range(width)])
            continue
        if note and _cited(plan, note.group(1)):
            plan.notes[note.group(1)] = note.group(2)
        elif line.strip():
            plan.blocks.append(line)
        i += 1
    return plan


def _cited(plan: Plan, number: str) -> bool:
    return any(isinstance(b, str) and f"[{number}]" in b for b in plan.blocks)


def _grid(table: PipeTable) -> Grid:
    depth = max(len(c.labels) for c in table.columns)
    header: list[list[HeaderCell]] = []
    for level in range(depth):
        row: list[HeaderCell] = []
        previous: tuple[str, ...] | None = None
        for column in table.columns:
            if len(column.labels) <= level:
                previous = None
                continue
            path = column.labels[: level + 1]
            if path == previous:
                row[-1].col_span += 1
                continue
            down = depth - level if len(column.labels) == level + 1 else 1
            row.append(HeaderCell(column.labels[level], down, 1))
            previous = path
        header.append(row)
    rows = []
    for data in table.rows:
        texts = [c.text for c in data.cells]
        if len(texts) > 2 and texts[1] and not any(texts[2:]):
            rows.append([(texts[0], 1), (texts[1], len(texts) - 1)])  # a group row: its name spans the rest
        else:
            rows.append([(t, 1) for t in texts])
    return Grid(len(table.columns), header, rows)


class _Writer(Protocol):
    """One format's writing of a plan's blocks (the walk over them is ``_write``'s, once for every format)."""

    def paragraph(self, text: str) -> None: ...
    def table(self, grid: Grid) -> None: ...
    def layout(self, columns: list[list[str]]) -> None: ...
    def finish(self) -> bytes: ...


def _write(plan: Plan, writer: _Writer) -> bytes:
    for block in plan.blocks:
        if isinstance(block, str):
            writer.paragraph(block)
        elif isinstance(block, Grid):
            writer.table(block)
        else:
            writer.layout(block)
    return writer.finish()


def _note_numbers(plan: Plan) -> dict[str, int]:
    return {n: i for i, n in enumerate(plan.notes, 1)}


def to_docx(plan: Plan) -> bytes:
    return _write(plan, _DocxWriter(plan))


def to_html(plan: Plan) -> bytes:
    return _write(plan, _HtmlWriter(plan))


def to_odt(plan: Plan) -> bytes:
    return _write(plan, _OdtWriter(plan))


# --- DOCX ---------------------------------------------------------------------------------

class _DocxWriter:
    def __init__(self, plan: Plan) -> None:
        self.notes, self.numbers = plan.notes, _note_numbers(plan)
        self.document = docx.Document()
        self.document.styles["Normal"].font.size = Pt(11)

    def paragraph(self, text: str) -> None:
        _docx_paragraph(self.document.add_paragraph(), text, self.numbers)

    def table(self, grid: Grid) -> None:
        _docx_table(self.document, grid)

    def layout(self, columns: list[list[str]]) -> None:
        _docx_layout(self.document, columns)

    def finish(self) -> bytes:
        if self.notes:
            _docx_footnotes(self.document, self.notes, self.numbers)
        out = io.BytesIO()
        self.document.save(out)
        return out.getvalue()


def _docx_paragraph(paragraph, text: str, numbers: dict[str, int]) -> None:
    at = 0
    for m in _REFERENCE.finditer(text):
        if m.group(1) not in numbers:
            continue
        paragraph.add_run(text[at:m.start()])
        reference = OxmlElement("w:footnoteReference")
        reference.set(qn("w:id"), str(numbers[m.group(1)]))
        paragraph.add_run()._r.append(reference)
        at = m.end()
    paragraph.add_run(text[at:])


def _docx_layout(document, columns: list[list[str]]) -> None:
    table = document.add_table(rows=1, cols=len(columns))  # no style: no borders
    for cell, lines in zip(table.rows[0].cells, columns, strict=True):
        cell.text = lines[0]
        if len(lines) > 1:
            cell.add_paragraph("-" * 7)  # the rule under the issuer and the motto
        for line in lines[1:]:
            cell.add_paragraph(line)


def _docx_table(document, grid: Grid) -> None:
    """The table's XML written as Word writes it (python-docx's cell() and merge() walk the
    whole table at each call): a merged cell is one ``w:tc`` with ``w:gridSpan``, and
    ``w:vMerge`` restart/continue down the rows it covers."""
    table = document.add_table(rows=0, cols=grid.width)
    table.style = "Table Grid"
    below: dict[int, tuple[int, int]] = {}  # grid column -> (header rows a merge still covers, its span)
    for row in grid.header:
        cells: list[tuple[str, int, str | None]] = []
        column = 0
        queue = list(row)
        while column < grid.width and (queue or column in below):
            if column in below:
                left, span = below.pop(column)
                if left > 1:
                    below[column] = (left - 1, span)
                cells.append(("", span, "continue"))
                column += span
                continue
            cell = queue.pop(0)
            if cell.row_span > 1:
                below[column] = (cell.row_span - 1, cell.col_span)
            cells.append((cell.text, cell.col_span, "restart" if cell.row_span > 1 else None))
            column += cell.col_span
        _docx_row(table, cells, header=True)
    for row in grid.rows:
        _docx_row(table, [(text, span, None) for text, span in row], header=False)


def _docx_row(table, cells: list[tuple[str, int, str | None]], header: bool) -> None:
    tr = OxmlElement("w:tr")
    if header:
        properties = OxmlElement("w:trPr")
        properties.append(OxmlElement("w:tblHeader"))
        tr.append(properties)
    for text, span, merge in cells:
        tc = OxmlElement("w:tc")
        properties = OxmlElement("w:tcPr")
        if span > 1:
            grid_span = OxmlElement("w:gridSpan")
            grid_span.set(qn("w:val"), str(span))
            properties.append(grid_span)
        if merge:
            vertical = OxmlElement("w:vMerge")
            if merge == "restart":
                vertical.set(qn("w:val"), "restart")
            properties.append(vertical)
        tc.append(properties)
        paragraph = OxmlElement("w:p")
        if text:
            run, t = OxmlElement("w:r"), OxmlElement("w:t")
            t.text = text
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            run.append(t)
            paragraph.append(run)
        tc.append(paragraph)
        tr.append(tc)
    table._tbl.append(tr)


def _docx_footnotes(document, notes: dict[str, str], numbers: dict[str, int]) -> None:
    body = "".join(
        f'<w:footnote w:id="{numbers[n]}"><w:p><w:r><w:footnoteRef/></w:r>'
        f'<w:r><w:t xml:space="preserve"> {html.escape(text)}</w:t></w:r></w:p></w:footnote>'
        for n, text in notes.items())
    xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes xmlns:w="{W_NS}">'
           '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
           '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r>'
           f'</w:p></w:footnote>{body}</w:footnotes>')
    part = Part(PackURI("/word/footnotes.xml"), CONTENT_TYPE.WML_FOOTNOTES, xml.encode("utf-8"),
                document.part.package)
    document.part.relate_to(part, RELATIONSHIP_TYPE.FOOTNOTES)


# --- HTML ---------------------------------------------------------------------------------

_CHROME_TOP = ('<header class="site-header"><a href="/">Thư viện văn bản</a></header>'
               '<nav><ul><li><a href="/">Trang chủ</a></li><li><a href="/vb">Văn bản mới</a></li></ul></nav>'
               '<div class="breadcrumb">Trang chủ › Văn bản › Kế hoạch</div><script>var x = "a | b |";</script>')
_CHROME_BOTTOM = '<aside>Văn bản liên quan</aside><footer>© Thư viện văn bản</footer>'


class _HtmlWriter:
    def __init__(self, plan: Plan) -> None:
        self.notes, self.numbers = plan.notes, _note_numbers(plan)
        self.out = ['<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Kế hoạch</title></head>'
                    "<body>", _CHROME_TOP, "<main>"]

    def paragraph(self, text: str) -> None:
        self.out.append(f"<p>{_html_references(text, self.numbers)}</p>")

    def table(self, grid: Grid) -> None:
        self.out.append(_html_table(grid))

    def layout(self, columns: list[list[str]]) -> None:
        cells = "".join("<td>" + "".join(f"<p>{html.escape(line)}</p>" for line in lines) + "</td>"
                        for lines in columns)
        self.out.append(f'<table style="border:none"><tr>{cells}</tr></table>')

    def finish(self) -> bytes:
        for n, text in self.notes.items():
            self.out.append(f'<p id="ftn{self.numbers[n]}">[{self.numbers[n]}] {html.escape(text)}</p>')
        self.out.append(f"</main>{_CHROME_BOTTOM}</body></html>")
        return "\n".join(self.out).encode("utf-8")


def _html_references(text: str, numbers: dict[str, int]) -> str:
    escaped = html.escape(text)
    return _REFERENCE.sub(lambda m: f'<sup><a href="#ftn{m.group(1)}">[{m.group(1)}]</a></sup>'
                          if m.group(1) in numbers else m.group(0), escaped)


def _html_table(grid: Grid) -> str:
    out = ['<table border="1" cellspacing="0"><thead>']
    for row in grid.header:
        out.append("<tr>" + "".join(f'<th rowspan="{c.row_span}" colspan="{c.col_span}">{html.escape(c.text)}</th>'
                                    for c in row) + "</tr>")
    out.append("</thead><tbody>")
    for row in grid.rows:
        out.append("<tr>" + "".join(f'<td colspan="{span}">{html.escape(text)}</td>' if span > 1
                                    else f"<td>{html.escape(text)}</td>" for text, span in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


# --- ODT (LibreOffice) --------------------------------------------------------------------

_ODF = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
        'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"')
_ODT_MANIFEST = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                 'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
                 '<manifest:file-entry manifest:full-path="/" '
                 'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
                 '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                 '</manifest:manifest>')


class _OdtWriter:
    def __init__(self, plan: Plan) -> None:
        self.notes, self.numbers = plan.notes, _note_numbers(plan)
        self.body: list[str] = []

    def paragraph(self, text: str) -> None:
        self.body.append(f"<text:p>{_odt_references(text, self.notes, self.numbers)}</text:p>")

    def table(self, grid: Grid) -> None:
        self.body.append(_odt_table(grid))

    def layout(self, columns: list[list[str]]) -> None:
        cells = "".join("<table:table-cell>" + "".join(f"<text:p>{html.escape(line)}</text:p>" for line in lines)
                        + "</table:table-cell>" for lines in columns)
        self.body.append(f'<table:table><table:table-column table:number-columns-repeated="{len(columns)}"/>'
                         f"<table:table-row>{cells}</table:table-row></table:table>")

    def finish(self) -> bytes:
        content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF} office:version="1.3">'
                   '<office:automatic-styles><style:style style:name="Ruled" style:family="table-cell">'
                   '<style:table-cell-properties fo:border="0.5pt solid #000000"/></style:style>'
                   f'</office:automatic-styles><office:body><office:text>{"".join(self.body)}</office:text>'
                   "</office:body></office:document-content>")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
            archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
            archive.writestr("META-INF/manifest.xml", _ODT_MANIFEST, zipfile.ZIP_DEFLATED)
        return out.getvalue()


def _odt_references(text: str, notes: dict[str, str], numbers: dict[str, int]) -> str:
    out, at = [], 0
    for m in _REFERENCE.finditer(text):
        if m.group(1) in numbers:
            out.append(html.escape(text[at:m.start()]))
            out.append(f'<text:note text:note-class="footnote"><text:note-citation>{numbers[m.group(1)]}'
                       f"</text:note-citation><text:note-body><text:p>{html.escape(notes[m.group(1)])}</text:p>"
                       "</text:note-body></text:note>")
            at = m.end()
    return "".join(out) + html.escape(text[at:])


def _odt_table(grid: Grid) -> str:
    cell = '<table:table-cell table:style-name="Ruled"{spans}><text:p>{text}</text:p></table:table-cell>'
    covered = "<table:covered-table-cell/>"
    out = [f'<table:table><table:table-column table:number-columns-repeated="{grid.width}"/><table:table-header-rows>']
    below: dict[int, int] = {}  # grid column -> header rows a merge from above still covers
    for row in grid.header:
        cells, column, queue = [], 0, list(row)
        while column < grid.width:
            if below.get(column):
                below[column] -= 1
                cells.append(covered)
                column += 1
                continue
            if not queue:
                break
            c = queue.pop(0)
            spans = (f' table:number-columns-spanned="{c.col_span}"' if c.col_span > 1 else "") + (
                f' table:number-rows-spanned="{c.row_span}"' if c.row_span > 1 else "")
            cells.append(cell.format(spans=spans, text=html.escape(c.text)) + covered * (c.col_span - 1))
            for k in range(c.col_span):
                if c.row_span > 1:
                    below[column + k] = c.row_span - 1
            column += c.col_span
        out.append(f"<table:table-row>{''.join(cells)}</table:table-row>")
    out.append("</table:table-header-rows>")
    for row in grid.rows:
        cells = [cell.format(spans=f' table:number-columns-spanned="{span}"' if span > 1 else "",
                             text=html.escape(text)) + covered * (span - 1) for text, span in row]
        out.append(f"<table:table-row>{''.join(cells)}</table:table-row>")
    return "".join(out) + "</table:table>"
