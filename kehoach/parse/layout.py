"""Split a plan text into its parts by structure, not by position.

Layout of a plan as published by legal-document sites::

    - 1 <related document>           leading list(s) of related documents
    <issuer> | <national motto> |    header table
    Số: 219/KH-UBND | <place>, ngày d tháng m năm y |
    KẾ HOẠCH                         document type
    <TITLE IN CAPITALS>              title (one or more lines)
    <body ...>                       Phần I/II, sections (read by kehoach.parse.narrative)
    | CHỦ TỊCH |                     signature block
    PHỤ LỤC n                        appendices, each a title, an issuing note,
    <title> / (Ban hành kèm theo …)  an optional unit line and a pipe table
    [1] <footnote>                   footnotes
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from kehoach.core.errors import KehoachError
from kehoach.core.text import clean, key, slug
from kehoach.core.vocabularies import vocabulary
from kehoach.parse.table_reader import PipeTable, is_header_start, is_table_line, line_cells, read_table
from kehoach.parse.values import find_long_date
from kehoach.read.sources import SourceText

_RELATED = re.compile(r"^-\s*(\d+)[.)]?\s+(\S.*)$")
_NUMBER = re.compile(r"\bSố\s*[:.]?\s*(\d+[^\s|,;]*/[^\s|,;]+)", re.IGNORECASE)
_PLACE_DATE = re.compile(r"([^|,]+?)\s*,\s*ngày\s+\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}", re.IGNORECASE)
_APPENDIX = re.compile(r"^PHỤ\s+LỤC(?:\s+(?:SỐ\s+)?([0-9]+|[IVXLC]+|[A-Z]))?\s*[:.]?\s*$", re.IGNORECASE)
_UNIT = re.compile(r"^\(?\s*(?:ĐVT|Đơn vị tính|Đơn vị)\s*[:.]\s*(.+?)\s*\)?$", re.IGNORECASE)
_FOOTNOTE = re.compile(r"^\[(\d+)\]\s*(.*)$")
_PROVINCE_IN_TEXT = re.compile(r"\b(TỈNH|THÀNH PHỐ)\s+(.+?)(?=\s+NĂM\b|\s+GIAI ĐOẠN\b|\s+ĐẾN\b|$)", re.IGNORECASE)
# A body that starts right after the title with 'PHẦN I' or 'I. ĐÁNH GIÁ …' (also in capitals).
_OUTLINE_HEADING = re.compile(r"^(?:PHẦN\s+(?:[IVXLC]+|\d+)\b|[IVXLC]+\.\s)", re.IGNORECASE)
_YEAR_IN_TITLE = re.compile(r"\bNĂM\s+(\d{4})\b", re.IGNORECASE)
# Parts of the header that are the same on every Vietnamese state document.
_MOTTO = ("cộng hòa xã hội chủ nghĩa việt nam", "cộng hoà xã hội chủ nghĩa việt nam", "độc lập - tự do - hạnh phúc")


@dataclass(frozen=True)
class RelatedEntry:
    line: int
    position: int
    text: str


@dataclass(frozen=True)
class PlanHeader:
    number: str
    number_line: int
    doc_type: str
    doc_type_line: int
    issuer: str
    issuer_printed: str
    province: str
    province_unit: str
    place: str
    issued_date: date
    title_printed: str
    title: str
    title_line: int
    plan_year: int | None

    @property
    def plan_id(self) -> str:
        """Stable id from what the document says of itself: province, number, year."""
        return slug(f"{self.province}-{self.number}-{self.issued_date.year}")

    @property
    def province_full(self) -> str:
        return f"{self.province_unit} {self.province}"


@dataclass
class Appendix:
    label: str
    heading_line: int
    title: str
    note: str
    unit_text: str | None
    unit_line: int | None
    table: PipeTable | None


@dataclass(frozen=True)
class Footnote:
    marker: str
    text: str
    line: int


@dataclass
class PlanDocument:
    source: SourceText
    related: list[RelatedEntry]
    header: PlanHeader
    body_start: int  # first body line (1-based, inclusive)
    body_end: int  # last body line (inclusive)
    signature: list[tuple[int, str]]
    appendices: list[Appendix] = field(default_factory=list)
    footnotes: list[Footnote] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.source.path

    def body_lines(self) -> list[tuple[int, str]]:
        return [(n, self.source.line(n)) for n in range(self.body_start, self.body_end + 1)]


@cache
def _doc_type_names() -> tuple[str, ...]:
    names = [r["name_vi"] for r in vocabulary("doc_types")]
    return tuple(sorted(names, key=len, reverse=True))


@cache
def _provinces() -> dict[str, dict[str, str]]:
    return {key(r["name_vi"]): r for r in vocabulary("provinces")}


def parse_document(source: SourceText) -> PlanDocument:
    lines = source.lines
    path = source.path
    i = 0
    related: list[RelatedEntry] = []
    while i < len(lines):
        text = lines[i].strip()
        m = _RELATED.match(text)
        if m:
            related.append(RelatedEntry(i + 1, int(m[1]), clean(m[2])))
        elif text:
            break
        i += 1

    header, body_start = _parse_header(lines, i, path)
    appendix_starts = [n for n in range(body_start, len(lines)) if _APPENDIX.match(lines[n].strip())]
    body_stop = appendix_starts[0] if appendix_starts else _footnote_start(lines, body_start)
    # The signature block is the run of table lines closing the body.
    end = body_stop
    while end > body_start and (not lines[end - 1].strip() or is_table_line(lines[end - 1])):
        end -= 1
    signature = [
        (n + 1, " ".join(c for c in line_cells(lines[n]) if c))
        for n in range(end, body_stop)
        if lines[n].strip()
    ]
    doc = PlanDocument(source, related, header, body_start + 1, end, signature)

    for k, start in enumerate(appendix_starts):
        stop = appendix_starts[k + 1] if k + 1 < len(appendix_starts) else len(lines)
        appendix, table_end = _parse_appendix(lines, start, stop, path)
        doc.appendices.append(appendix)
        if k + 1 == len(appendix_starts):
            doc.footnotes = _parse_footnotes(lines, table_end)
    if not appendix_starts:
        doc.footnotes = _parse_footnotes(lines, body_stop)
    return doc


def _footnote_start(lines: tuple[str, ...], start: int) -> int:
    """Footnotes are the trailing run of lines that starts with '[n] '."""
    first = len(lines)
    for n in range(len(lines) - 1, start - 1, -1):
        if _FOOTNOTE.match(lines[n].strip()):
            first = n
        elif lines[n].strip() and first != len(lines) and n < first - 1:
            break
    return first


def _parse_footnotes(lines: tuple[str, ...], start: int) -> list[Footnote]:
    notes: list[Footnote] = []
    for n in range(start, len(lines)):
        text = lines[n].strip()
        m = _FOOTNOTE.match(text)
        if m:
            notes.append(Footnote(m[1], clean(m[2]), n + 1))
        elif text and notes:
            last = notes[-1]
            notes[-1] = Footnote(last.marker, clean(f"{last.text} {text}"), last.line)
    return notes


def _parse_header(lines: tuple[str, ...], start: int, path: str) -> tuple[PlanHeader, int]:
    number_index = next(
        (n for n in range(start, min(len(lines), start + 15)) if _NUMBER.search(lines[n])), None
    )
    if number_index is None:
        raise KehoachError(
            "no document header: expected a line with the plan number ('Số: …/KH-…') "
            "near the top, after the list of related documents",
            path,
            start + 1,
        )
    number = clean(_NUMBER.search(lines[number_index])[1]).replace(" ", "")

    issuer_cells: list[str] = []
    for n in range(start, number_index + 1):
        cells = line_cells(lines[n]) if is_table_line(lines[n]) else [lines[n]]
        left = clean(cells[0]) if cells else ""
        if left and not _NUMBER.search(left) and key(left) not in _MOTTO and not set(left) <= set("-_ "):
            issuer_cells.append(left)

    place = issued = None
    n = number_index
    while n < len(lines) and (is_table_line(lines[n]) or n == number_index):
        m = _PLACE_DATE.search(lines[n])
        if m:
            place = clean(m[1].split("|")[-1])
            issued = find_long_date(lines[n])
            break
        n += 1
    if issued is None:
        raise KehoachError("no issue date ('<place>, ngày d tháng m năm yyyy') in the header", path, number_index + 1)

    # Document type and title follow the header table.
    n = number_index + 1
    while n < len(lines) and (is_table_line(lines[n]) or not lines[n].strip() or key(lines[n]) in _MOTTO):
        n += 1
    if n >= len(lines):
        raise KehoachError("document ends after its header", path, number_index + 1)
    first = clean(lines[n])
    doc_type = next((t for t in _doc_type_names() if key(first).startswith(key(t))), None)
    if doc_type is None:
        raise KehoachError(
            f"expected the document type (e.g. 'KẾ HOẠCH') after the header, found {first[:60]!r}", path, n + 1
        )
    doc_type_line = n + 1
    title_parts = [first[len(doc_type):].strip()] if len(first) > len(doc_type) else []
    title_line = n + 1 if title_parts else n + 2
    n += 1
    while n < len(lines) and _is_caps(lines[n]) and not _OUTLINE_HEADING.match(clean(lines[n])):
        title_parts.append(clean(lines[n]))
        n += 1
    title_printed = clean(" ".join(title_parts))
    if not title_printed:
        raise KehoachError("the document has no title after its type", path, doc_type_line)

    province, unit = _find_province([*issuer_cells, title_printed], place)
    cased = _sentence_case(title_printed, [province])
    title = f"{doc_type} {cased[:1].lower()}{cased[1:]}"
    years = _YEAR_IN_TITLE.findall(title_printed)
    issuer_printed = " ".join(issuer_cells)
    issuer = _issuer_name(issuer_printed, province, unit)
    header = PlanHeader(
        number=number,
        number_line=number_index + 1,
        doc_type=doc_type,
        doc_type_line=doc_type_line,
        issuer=issuer,
        issuer_printed=issuer_printed,
        province=province,
        province_unit=unit,
        place=place,
        issued_date=issued,
        title_printed=title_printed,
        title=title,
        title_line=title_line,
        plan_year=int(years[-1]) if years else None,
    )
    return header, n


def _is_caps(line: str) -> bool:
    text = clean(line)
    return bool(text) and any(c.isalpha() for c in text) and text == text.upper() and not is_table_line(text)


def _find_province(candidates: list[str], place: str) -> tuple[str, str]:
    """The province named in the issuer or title ('TỈNH QUẢNG NGÃI'), else the place."""
    known = _provinces()
    for text in candidates:
        m = _PROVINCE_IN_TEXT.search(text)
        if not m:
            continue
        name = clean(m[2])
        unit = "tỉnh" if m[1].lower() == "tỉnh" else "thành phố"
        if key(name) == key(place):
            return place, known.get(key(place), {}).get("unit") or unit
        if key(name) in known:
            row = known[key(name)]
            return row["name_vi"], row["unit"]
        return name.title(), unit
    row = known.get(key(place), {})
    return place, row.get("unit") or "tỉnh"


def _issuer_name(printed: str, province: str, unit: str) -> str:
    """'ỦY BAN NHÂN DÂN' + province -> 'Ủy ban nhân dân tỉnh Quảng Ngãi'."""
    text = _sentence_case(printed, [province]) if printed else "Ủy ban nhân dân"
    text = text.replace("Uỷ", "Ủy")
    if key(province) not in key(text):
        text = f"{text} {unit} {province}"
    return text


def _sentence_case(text: str, proper_nouns: list[str]) -> str:
    """'KẾ HOẠCH CHUYỂN ĐỔI SỐ TỈNH QUẢNG NGÃI' -> 'Kế hoạch chuyển đổi số tỉnh Quảng Ngãi'."""
    text = clean(text)
    if text != text.upper():
        return text
    lowered = text.lower()
    for noun in proper_nouns:
        lowered = re.sub(re.escape(noun.lower()), noun, lowered)
    return lowered[:1].upper() + lowered[1:]


def _parse_appendix(lines: tuple[str, ...], start: int, stop: int, path: str) -> tuple[Appendix, int]:
    label = (_APPENDIX.match(lines[start].strip())[1] or "").upper()
    title_parts: list[str] = []
    note = ""
    unit_text = None
    unit_line = None
    table = None
    n = start + 1
    while n < stop:
        text = clean(lines[n])
        if is_header_start(lines[n]):
            table = read_table(lines, n, path)
            n = table.end_line
            break
        if is_table_line(lines[n]):
            raise KehoachError(
                "table without a header row (expected 'TT | …' naming the columns)", path, n + 1
            )
        m = _UNIT.match(text)
        if m:
            unit_text, unit_line = clean(m[1]), n + 1
        elif text.startswith("(") and text.endswith(")"):
            note = text[1:-1]
        elif text:
            title_parts.append(text)
        n += 1
    appendix = Appendix(label, start + 1, clean(" ".join(title_parts)), note, unit_text, unit_line, table)
    return appendix, n
