"""Plans issued as Word documents (.docx), read with python-docx into the document model.

The body is read in its XML order (paragraphs and tables interleaved, as issued).
A merged cell is read once, at its origin: ``w:gridSpan`` gives its column span,
``w:vMerge`` continuations add to its row span (python-docx's ``row.cells`` would
repeat a group's name into the agency and deadline columns). Header rows are the
rows marked ``w:tblHeader`` (repeated on each page), else the rows above the first
numbered one. Footnotes stay footnotes: the reference is written ``[n]`` where it
stands and the notes follow the body as ``[n] text``, as sites print them. Word's
automatic numbering (``numbering.xml``) is written back in front of its paragraph;
a number the document does not define is said in the notes. A borderless
two-column table (issuer left, motto right; the signer) is laid out line by line.

A .docx is a ZIP archive: its declared unpacked size and its ratio to the file's
size are checked against the input limits before python-docx inflates anything.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from importlib.metadata import version

import docx
from docx.opc.exceptions import PackageNotFoundError
from lxml import etree

from kehoach.core.errors import KehoachError
from kehoach.core.limits import unpacked_beyond_limits
from kehoach.core.numerals import roman_numeral
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

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_ZIP = b"PK\x03\x04"
_MAIN_PART = b"word/document.xml"
_FOOTNOTES = "/footnotes"
_NUMBERING = "/numbering"
_STYLES = "/styles"
# What reading a damaged archive's part raises: a bad header or CRC, a missing part, a broken deflate
# stream (zlib.error), an unknown compression method (NotImplementedError), XML that does not parse.
ARCHIVE_DAMAGE = (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, EOFError, zlib.error,
                  NotImplementedError, etree.LxmlError)
_DAMAGED = (*ARCHIVE_DAMAGE, PackageNotFoundError)


def recognises(data: bytes) -> bool:
    """A ZIP archive naming ``word/document.xml`` (in a local header near the start, or in
    the central directory at the end: a truncated file is still told a Word document)."""
    return data.startswith(_ZIP) and (_MAIN_PART in data[:65536] or _MAIN_PART in data[-65536:])


def read(data: bytes, name: str) -> Document:
    check_archive(data, name)
    try:
        document = docx.Document(io.BytesIO(data))
        return _Reader(document).document()
    except ValueError as exc:
        if "content type is" in str(exc):  # python-docx's refusal of a template or a macro-enabled file
            kind = str(exc).rsplit("content type is", 1)[1].strip(" '\"")
            raise KehoachError(f"a Word file that is not a document ({kind}): a template (.dotx) or a "
                               "macro-enabled file (.docm)? open it in Word and save it as .docx", name) from None
        raise KehoachError(f"the Word document is damaged ({_reason(exc)}); open it in Word or LibreOffice "
                           "and save it again", name) from None
    except _DAMAGED as exc:
        raise KehoachError(f"the Word document is damaged ({_reason(exc)}); open it in Word or LibreOffice "
                           "and save it again", name) from None


def check_archive(data: bytes, name: str, main: str = _MAIN_PART.decode(), kind: str = "Word document") -> None:
    """Refuse an archive (a ``kind`` of document whose text is its ``main`` part) that is cut off or
    damaged, or that would unpack beyond the limits."""
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise KehoachError(f"the {kind} is cut off or damaged: not a readable ZIP archive ({_reason(exc)})",
                           name) from None
    beyond = unpacked_beyond_limits(sum(e.file_size for e in entries), len(data), f"the {kind}")
    if beyond:
        raise KehoachError(beyond, name)
    if not any(e.filename == main for e in entries):
        raise KehoachError(f"a ZIP archive without {main}: not a {kind}", name)


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:160] or type(exc).__name__


class _Numbering:
    """Word's automatic numbering: each list's counters, formatted as numbering.xml says."""

    def __init__(self, root: etree._Element | None, styles: etree._Element | None = None) -> None:
        self.levels: dict[str, dict[str, tuple[str, str, int]]] = {}  # numId -> ilvl -> (format, text, start)
        self.counters: dict[str, dict[int, int]] = {}
        self.undefined = 0
        self.by_style = _style_numbering(styles)  # a list style ('List Number', a numbered heading)
        if root is None:
            return
        abstract = {a.get(W + "abstractNumId"): _levels(a) for a in root.iterchildren(W + "abstractNum")}
        for num in root.iterchildren(W + "num"):
            ref = num.find(W + "abstractNumId")
            levels = dict(abstract.get(ref.get(W + "val") if ref is not None else None, {}))
            for override in num.iterchildren(W + "lvlOverride"):
                start = override.find(W + "startOverride")
                at = override.get(W + "ilvl")
                if start is not None and at in levels:
                    fmt, text, _ = levels[at]
                    levels[at] = (fmt, text, int(start.get(W + "val", "1")))
            self.levels[num.get(W + "numId")] = levels

    def label(self, paragraph: etree._Element) -> str:
        """The number Word shows in front of the paragraph ('' when it has none)."""
        props = paragraph.find(f"{W}pPr/{W}numPr")
        style = paragraph.find(f"{W}pPr/{W}pStyle")
        inherited = self.by_style.get(style.get(W + "val") if style is not None else None, (None, None))
        num_id = (_val(props, "numId") if props is not None else None) or inherited[0]
        ilvl = (_val(props, "ilvl") if props is not None else None) or inherited[1] or "0"
        if num_id in (None, "0"):
            return ""
        levels = self.levels.get(num_id)
        if not levels or ilvl not in levels:
            self.undefined += 1
            return ""
        depth = int(ilvl)
        counters = self.counters.setdefault(num_id, {})
        counters[depth] = counters.get(depth, levels[ilvl][2] - 1) + 1
        for deeper in [d for d in counters if d > depth]:
            del counters[deeper]  # a new item restarts the levels under it
        fmt, text, _ = levels[ilvl]
        if fmt == "bullet":
            return "- "
        for level in range(depth + 1):
            shown = levels.get(str(level), ("decimal", "", 1))
            text = text.replace(f"%{level + 1}", _formatted(counters.get(level, shown[2]), shown[0]))
        return text + " " if text else ""


def _style_numbering(styles: etree._Element | None) -> dict[str, tuple[str | None, str | None]]:
    """styleId -> (numId, ilvl) of the paragraph styles that number their paragraphs, through basedOn."""
    if styles is None:
        return {}
    own: dict[str, tuple[str | None, str | None, str | None]] = {}
    for style in styles.iterchildren(W + "style"):
        props = style.find(f"{W}pPr/{W}numPr")
        based = style.find(W + "basedOn")
        own[style.get(W + "styleId")] = (_val(props, "numId") if props is not None else None,
                                         _val(props, "ilvl") if props is not None else None,
                                         based.get(W + "val") if based is not None else None)
    out = {}
    for style_id in own:
        num_id, ilvl, based, seen = *own[style_id], {style_id}
        while num_id is None and based in own and based not in seen:
            seen.add(based)
            num_id, ilvl, based = own[based]
        if num_id is not None:
            out[style_id] = (num_id, ilvl)
    return out


def _levels(abstract: etree._Element) -> dict[str, tuple[str, str, int]]:
    out = {}
    for lvl in abstract.iterchildren(W + "lvl"):
        out[lvl.get(W + "ilvl")] = (_val(lvl, "numFmt") or "decimal", _val(lvl, "lvlText") or "",
                                    int(_val(lvl, "start") or 1))
    return out


def _val(element: etree._Element, child: str) -> str | None:
    found = element.find(W + child)
    return found.get(W + "val") if found is not None else None


def _formatted(n: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        letters = ""
        while n > 0:
            n, rest = divmod(n - 1, 26)
            letters = chr(ord("a") + rest) + letters
        return letters if fmt == "lowerLetter" else letters.upper()
    if fmt in ("lowerRoman", "upperRoman"):
        roman = roman_numeral(n)
        return roman if fmt == "upperRoman" else roman.lower()
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)


class _Reader:
    def __init__(self, document: docx.document.Document) -> None:
        self.body = document.element.body
        for twin in [*self.body.iter(_FALLBACK, W + "moveFrom")]:
            # the copy of a drawing's text older Word reads, and text moved away (tracked): read once
            twin.getparent().remove(twin)
        part = document.part
        self.numbering = _Numbering(_related(part, _NUMBERING), _related(part, _STYLES))
        notes = _related(part, _FOOTNOTES)
        self.notes = {n.get(W + "id"): n for n in notes.iterchildren(W + "footnote")} if notes is not None else {}
        self.cited: list[str] = []  # footnote ids in the order their references are met

    def document(self) -> Document:
        blocks = list(self.blocks(self.body))
        for number, note_id in enumerate(self.cited, 1):
            text = " ".join(self.text(p) for p in self.notes[note_id].iter(W + "p")).strip()
            blocks.append(Paragraph(f"[{number}] {text}", footnote=True))
        notes = ()
        if self.numbering.undefined:
            notes = (f"{self.numbering.undefined} numbered paragraphs name a list numbering.xml does not define: "
                     "read without their numbers",)
        return Document(tuple(blocks), "docx", f"python-docx {version('python-docx')}", None, notes)

    def blocks(self, parent: etree._Element):
        for child in parent.iterchildren():
            if child.tag == W + "p":
                yield Paragraph(self.numbering.label(child) + self.text(child), _heading_level(child))
            elif child.tag == W + "tbl":
                yield self.table(child)
            elif child.tag == W + "sdt":  # a content control: its content is body
                content = child.find(W + "sdtContent")
                if content is not None:
                    yield from self.blocks(content)

    def text(self, paragraph: etree._Element) -> str:
        parts: list[str] = []
        for node in paragraph.iter(W + "t", W + "tab", W + "br", W + "cr", W + "footnoteReference"):
            if node.tag == W + "t":
                parts.append(node.text or "")
            elif node.tag == W + "footnoteReference":
                parts.append(self.reference(node.get(W + "id")))
            else:
                parts.append(" ")
        return "".join(parts)

    def reference(self, note_id: str | None) -> str:
        if note_id not in self.notes:
            return ""
        if note_id not in self.cited:
            self.cited.append(note_id)
        return f"[{self.cited.index(note_id) + 1}]"

    def cell_lines(self, cell: etree._Element) -> list[str]:
        return [self.numbering.label(p) + self.text(p) for p in cell.iter(W + "p")]

    def table(self, table: etree._Element) -> Block:
        origins: list[list[list]] = []  # rows of [lines, row span, column span, first grid column]
        by_column: dict[int, list] = {}  # the origin cell a vertical merge continues, by grid column
        marked = 0
        for r, row in enumerate(_wrapped(table, "tr")):
            props = row.find(W + "trPr")
            if props is not None and props.find(W + "tblHeader") is not None and marked == r:
                marked += 1
            column = _grid_columns(props, "gridBefore", 0)
            cells = [[[""], 1, 1, c] for c in range(column)]
            for cell in _wrapped(row, "tc"):
                cell_props = cell.find(W + "tcPr")
                span = _grid_columns(cell_props, "gridSpan", 1)
                merge = cell_props.find(W + "vMerge") if cell_props is not None else None
                above = by_column.get(column)
                if merge is not None and merge.get(W + "val", "continue") == "continue" and above is not None:
                    above[1] += 1
                else:
                    origin = [self.cell_lines(cell), 1, span, column]
                    cells.append(origin)
                    by_column[column] = origin
                column += span
            origins.append(cells)
        width = max((o[3] + o[2] for row in origins for o in row), default=0)
        if width == 2 and not _has_borders(table):
            return Table(layout_rows([_column_lines(origins, c) for c in range(2)]))
        rows = [[Cell("\n".join(o[0]), o[1], o[2]) for o in row] for row in origins]
        return Table(tuple(tuple(row) for row in mark_header_rows(rows, marked)))


def _grid_columns(props: etree._Element | None, name: str, default: int) -> int:
    """The grid columns a row skips (``gridBefore``) or a cell spans (``gridSpan``), as stated, within ``default``
    and ``MAX_SPAN``; a value that is no number is damage (``int`` refuses it)."""
    value = _val(props, name) if props is not None else None
    return max(default, min(int(value), MAX_SPAN)) if value is not None else default


def _wrapped(parent: etree._Element, tag: str) -> list[etree._Element]:
    """The rows of a table (or cells of a row), those a content control wraps among them."""
    out = []
    for child in parent.iterchildren(W + tag, W + "sdt"):
        if child.tag == W + tag:
            out.append(child)
        else:
            for content in child.iterchildren(W + "sdtContent"):
                out.extend(content.iterchildren(W + tag))
    return out


def _column_lines(origins: list[list[list]], column: int) -> list[str]:
    return [line for row in origins for o in row if o[3] == column for line in o[0]]


def _has_borders(table: etree._Element) -> bool:
    """Whether the table draws lines (its own borders or a table style's: a styled table is ruled)."""
    props = table.find(W + "tblPr")
    if props is None:
        return False
    borders = props.find(W + "tblBorders")
    if borders is not None:
        return any(b.get(W + "val") not in ("none", "nil", None) for b in borders)
    style = _val(props, "tblStyle")
    return style not in (None, "TableNormal", "NormalTable")


def _heading_level(paragraph: etree._Element) -> int | None:
    style = paragraph.find(f"{W}pPr/{W}pStyle")
    name = (style.get(W + "val") or "") if style is not None else ""
    if name.lower().startswith("heading") and name[7:].isdigit():
        return int(name[7:])
    return None


def _related(part, kind: str) -> etree._Element | None:
    """The XML of the part the document relates to by a relationship of this kind (footnotes, numbering)."""
    for rel in part.rels.values():
        if rel.reltype.endswith(kind) and not rel.is_external:
            return etree.fromstring(rel.target_part.blob, etree.XMLParser(resolve_entities=False, no_network=True,
                                                                            huge_tree=False))
    return None
