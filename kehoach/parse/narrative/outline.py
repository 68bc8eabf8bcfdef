"""The outline of a plan's narrative: parts, sections, areas and lettered items.

Headings are recognised by their numbering, never by their text (but one case below)::

    Phần I / PHẦN II  (+ a title line in capitals)   part
    I. CĂN CỨ LẬP KẾ HOẠCH                            section (roman)
    1. Nhận thức số / 1.1. Ngày Chuyển đổi số          numbered (depth = number of parts)
    a) Kết quả đạt được:                               lettered item

Every other non-empty line is a *unit* (a bullet or a paragraph) of the
innermost section above it. What a section is *for* (assessment, legal
bases, actions, budget, …) comes from ``reference/narrative_headings.csv``;
which area (pillar) a numbered heading names comes from
``reference/pillars.csv``.

On a line OCR read, a section heading whose numeral OCR dropped or misread ('. CĂN CỨ LẬP KẾ
HOẠCH', 'l. MỤC TIÊU') is still one when the rest is in capitals and names what a section is for
(``reference/narrative_headings.csv``, scope 'structure'): it takes the numeral after its previous
sibling's. So is an area whose stop OCR read as a comma ('9, Kinh tế số') when it names an area of
``reference/pillars.csv``. Either line is ``tolerated`` (its row flagged for review). A text is read by
numbering alone.

``section_id`` is the numbering path from the top, joined by '.', with the
numbering as written: 'II' (Phần II), 'II.III' (its section III),
'II.III.1' (area 1), 'II.III.1.a' (item a), 'I.II.1.1' (Part I, section II,
area 1, sub-area 1.1); 'đ' is written 'dd' to keep ids ASCII. Text outside
the numbered outline gets a named section: 'preamble' (before the first
heading), 'closing' (the final paragraph ending in './.'), 'signature',
'PL<n>' for appendix n and 'footnotes'. A repeated id gets a '-2' suffix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from kehoach.core.numerals import roman_numeral, roman_value
from kehoach.core.text import clean
from kehoach.parse.heading_roles import damaged_section, heading_role
from kehoach.parse.layout import PlanDocument
from kehoach.parse.pillars import PillarCollector, lookup

_PART = re.compile(r"^phần\s+([IVXLC]+|\d+)\b\s*[.:\-–]?\s*(.*)$", re.IGNORECASE)
_ROMAN = re.compile(r"^([IVXLC]+)\s*[.)]\s+(\S.*)$")
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2})+)\.?\s+(?=[^\W\d_])(.*)$|^(\d{1,2})[.)]\s+(?=[^\W\d_])(.*)$")
# an area's number whose stop OCR read as a comma ('9, Kinh tế số')
_COMMA_NUMBERED = re.compile(r"^(\d{1,2}),\s+(?=[^\W\d_])(.*)$")
_LETTERED = re.compile(r"^([a-zđ])\)\s+(\S.*)$")
_BULLET = re.compile(r"^[-+•–*]\s*")
# A Vietnamese administrative text ends its body with './.'.
_CLOSING_MARK = "./."

# Nesting ranks: a heading closes every open section of the same or a deeper rank.
_RANK_PART, _RANK_ROMAN, _RANK_ITEM = 0, 1, 50


@dataclass(frozen=True)
class Unit:
    """One bullet or paragraph of the narrative (or a heading that is its own content)."""

    line: int
    form: str  # 'bullet', 'paragraph' or 'heading'
    text: str
    section: Section


@dataclass(eq=False)
class Section:
    section_id: str
    kind: str  # preamble, part, section, area, subsection, item, closing, signature, appendix, footnotes
    label: str | None
    heading: str
    line_start: int
    rank: int
    parent: Section | None = None
    role: str | None = None
    own_pillar: str | None = None
    line_end: int = 0
    children: list[Section] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)

    @property
    def level(self) -> int:
        return 1 if self.parent is None else self.parent.level + 1

    @property
    def pillar(self) -> str | None:
        node: Section | None = self
        while node is not None:
            if node.own_pillar:
                return node.own_pillar
            node = node.parent
        return None

    def ancestors(self) -> Iterator[Section]:
        """This section, then its parent, up to the top."""
        node: Section | None = self
        while node is not None:
            yield node
            node = node.parent

    def nearest(self, role: str) -> Section | None:
        return next((s for s in self.ancestors() if s.role == role), None)

    def child_of(self, ancestor: Section) -> Section | None:
        """The ancestor's child on the path down to this section (None for the ancestor itself)."""
        return next((s for s in self.ancestors() if s.parent is ancestor), None)


class Outline:
    """Sections of one plan in document order, with a line -> section index; ``tolerated``: the lines of
    headings recognised by their words, their numeral misread by OCR."""

    def __init__(self, sections: list[Section], tolerated: frozenset[int] = frozenset()):
        self.sections = sections
        self.tolerated = tolerated
        self._by_line: dict[int, Section] = {}
        for s in sections:  # parents come first, so the innermost section wins
            for n in range(s.line_start, s.line_end + 1):
                self._by_line[n] = s

    def at(self, line: int) -> Section | None:
        """The innermost section containing ``line``; between sections, the last one started before it."""
        found = self._by_line.get(line)
        if found is None:
            found = next((s for s in reversed(self.sections) if s.line_start <= line), None)
        return found

    def with_role(self, role: str) -> list[Section]:
        return [s for s in self.sections if s.role == role]

    def units_under(self, section: Section) -> list[Unit]:
        found: list[Unit] = []
        for s in self.sections:
            if section in s.ancestors():
                found.extend(s.units)
        return sorted(found, key=lambda u: u.line)


def read_outline(doc: PlanDocument, pillars: PillarCollector) -> Outline:
    reader = _OutlineReader(doc, pillars)
    reader.read_body()
    reader.add_appendices_and_footnotes()
    return Outline(reader.sections, frozenset(reader.tolerated))


class _OutlineReader:
    def __init__(self, doc: PlanDocument, pillars: PillarCollector):
        self.doc = doc
        self.pillars = pillars
        self.sections: list[Section] = []
        self.stack: list[Section] = []
        self._ids: set[str] = set()
        self._next_suffix: dict[str, int] = {}
        self._ocr_lines = doc.ocr_lines
        self.tolerated: set[int] = set()

    # -- the body ----------------------------------------------------------------
    def read_body(self) -> None:
        # Blank lines (paragraph separators on some sites) never carry a heading's title.
        lines = [(n, text) for n, text in self.doc.body_lines() if text.strip()]
        i = 0
        while i < len(lines):
            n, raw = lines[i]
            text = clean(raw)
            i += 1
            if not text:
                continue
            m = _PART.match(text)
            if m:
                title = [m[2]] if m[2] else []
                while (i < len(lines) and _is_title_line(lines[i][1]) and (not title or not m[2])
                       and not self._damaged_heading(*lines[i])):
                    title.append(clean(lines[i][1]))  # 'Phần II' / 'NỘI DUNG KẾ HOẠCH' / 'NĂM 2024'
                    i += 1
                self._open("part", m[1].upper(), " ".join(title), n, _RANK_PART)
                continue
            heading = _heading(text)
            if not heading and (heading := self._damaged_heading(n, text)):
                self.tolerated.add(n)
                if heading[1] is None:  # its numeral lost: the one after its previous sibling's
                    heading = (heading[0], self._next_roman(), *heading[2:])
            if heading:
                kind, label, title, rank = heading
                self._open(kind, label, title, n, rank)
                continue
            self._add_unit(n, text)
        self._split_closing()
        self._close_all(self.doc.body_end)

    def _damaged_heading(self, line: int, text: str) -> tuple[str, str | None, str, int] | None:
        """A heading on a line OCR read whose numbering OCR damaged, told by its words: a section (its
        numeral lost: None) or an area (its stop read as a comma)."""
        text = clean(text)
        if line not in self._ocr_lines or _heading(text):
            return None
        if title := damaged_section(text):
            return "section", None, title, _RANK_ROMAN
        m = _COMMA_NUMBERED.match(text)
        if m and lookup(m[2]).kind != "unknown":
            return "numbered", m[1], m[2], _RANK_ROMAN + 1
        return None

    def _next_roman(self) -> str:
        """The numeral after the last section's under the part open now ('I' for its first)."""
        part = next((s for s in reversed(self.stack) if s.rank < _RANK_ROMAN), None)
        siblings = [s for s in self.sections if s.kind == "section" and s.parent is part]
        labels = [s.label for s in siblings if s.label and set(s.label) <= set("IVXLC")]
        return roman_numeral(roman_value(labels[-1]) + 1) if labels else "I"

    def _open(self, kind: str, label: str, heading: str, line: int, rank: int) -> None:
        while self.stack and self.stack[-1].rank >= rank:
            self._close(self.stack.pop(), line - 1)
        parent = self.stack[-1] if self.stack else None
        heading = clean(heading).rstrip(":").strip()
        section = Section(self._id(parent, kind, label), kind, label, heading, line, rank, parent)
        self._assign_role(section)
        if kind == "numbered":
            pillar = lookup(heading)
            if pillar.kind != "unknown":
                section.own_pillar = self.pillars.resolve(heading, line)
            section.kind = "area" if section.own_pillar else "subsection"
        if parent:
            parent.children.append(section)
        self.sections.append(section)
        self.stack.append(section)

    def _assign_role(self, section: Section) -> None:
        inside_assessment = any(s.role == "assessment" for s in section.ancestors() if s is not section)
        if section.kind in ("part", "section") and not inside_assessment:
            section.role = heading_role(section.heading, "structure")
        elif inside_assessment and section.kind in ("numbered", "item"):
            section.role = heading_role(section.heading, "label")

    def _id(self, parent: Section | None, kind: str, label: str) -> str:
        own = label
        if kind == "numbered" and parent is not None and parent.kind in ("area", "subsection"):
            prefix = f"{parent.label}."
            own = label[len(prefix):] if label.startswith(prefix) else label  # '1.1' under '1' -> '1'
        own = own.replace("đ", "dd")
        base = f"{parent.section_id}.{own}" if parent else own
        return self._unique(base)

    def _unique(self, base: str) -> str:
        """``base``, or ``base-2``, ``base-3`` … : each base remembers the next
        suffix to try, so n repeated headings cost n probes, not n²/2."""
        k = self._next_suffix.get(base, 2)
        candidate = base
        while candidate in self._ids:
            candidate, k = f"{base}-{k}", k + 1
        self._next_suffix[base] = k
        self._ids.add(candidate)
        return candidate

    def _add_unit(self, line: int, text: str) -> None:
        if not self.stack:
            self._open_named("preamble", "", line)
        form = "bullet" if _BULLET.match(text) else "paragraph"
        body = _BULLET.sub("", text, count=1) if form == "bullet" else text
        section = self.stack[-1]
        section.units.append(Unit(line, form, body, section))

    def _open_named(self, kind: str, heading: str, line: int) -> Section:
        while self.stack:
            self._close(self.stack.pop(), line - 1)
        section = Section(self._unique(kind), kind, None, heading, line, _RANK_PART)
        self.sections.append(section)
        self.stack.append(section)
        return section

    def _split_closing(self) -> None:
        """The final './.' paragraph closes the whole text; it is not the last section's content."""
        if not self.stack:
            return
        section = self.stack[-1]
        if not section.units:
            return
        last = section.units[-1]
        has_content = len(section.units) > 1 or section.children
        if last.text.endswith(_CLOSING_MARK) and last.form == "paragraph" and has_content:
            section.units.pop()
            closing = self._open_named("closing", "", last.line)
            closing.units.append(Unit(last.line, last.form, last.text, closing))

    def _close(self, section: Section, line: int) -> None:
        section.line_end = max(self._last_text_line(section.line_start, line), section.line_start)
        # A section with no content of its own is its own content ('a) Nâng cấp Trung tâm dữ liệu …').
        if not section.units and not section.children and section.role is None and section.kind in (
            "item", "area", "subsection"
        ):
            section.units.append(Unit(section.line_start, "heading", section.heading, section))

    def _close_all(self, line: int) -> None:
        while self.stack:
            self._close(self.stack.pop(), line)

    def _last_text_line(self, start: int, end: int) -> int:
        while end > start and not self.doc.source.line(end).strip():
            end -= 1
        return end

    # -- outside the body -----------------------------------------------------------
    def add_appendices_and_footnotes(self) -> None:
        doc = self.doc
        if doc.signature:
            first, last = doc.signature[0][0], doc.signature[-1][0]
            section = Section(self._unique("signature"), "signature", None, " ".join(t for _, t in doc.signature),
                              first, _RANK_PART)
            section.line_end = last
            self.sections.append(section)
        footnote_start = doc.footnotes[0].line if doc.footnotes else len(doc.source.lines) + 1
        for k, appendix in enumerate(doc.appendices):
            nxt = doc.appendices[k + 1].heading_line if k + 1 < len(doc.appendices) else footnote_start
            label = appendix.label or str(k + 1)
            section = Section(self._unique(f"PL{label}"), "appendix", label, appendix.title,
                              appendix.heading_line, _RANK_PART)
            section.line_end = self._last_text_line(appendix.heading_line, nxt - 1)
            self.sections.append(section)
        if doc.footnotes:
            last = doc.footnotes[-1].line
            end = self._last_text_line(last, len(doc.source.lines))
            section = Section(self._unique("footnotes"), "footnotes", None, "", footnote_start, _RANK_PART)
            section.line_end = end
            self.sections.append(section)


def _heading(text: str) -> tuple[str, str, str, int] | None:
    """(kind, label, heading text, rank) for a heading line of the outline."""
    m = _ROMAN.match(text)
    if m:
        return "section", m[1], m[2], _RANK_ROMAN
    m = _NUMBERED.match(text)
    if m:
        label = m[1] or m[3]
        return "numbered", label, m[2] if m[1] else m[4], _RANK_ROMAN + label.count(".") + 1
    m = _LETTERED.match(text)
    if m:
        return "item", m[1], m[2], _RANK_ITEM
    return None


def _is_title_line(line: str) -> bool:
    """A line in capitals that is not itself a heading ('I. CĂN CỨ …' follows a part's title)."""
    text = clean(line)
    capitals = bool(text) and any(c.isalpha() for c in text) and text == text.upper()
    return capitals and _heading(text) is None and not _PART.match(text)
