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

import logging
import re
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from typing import NamedTuple

from kehoach.core.errors import KehoachError
from kehoach.core.text import caseless, clean, key, lines_holding, slug
from kehoach.core.vocabularies import vocabulary
from kehoach.parse.appendix_blocks import FOOTNOTE, Appendix, find_appendix_starts, parse_appendices
from kehoach.parse.front_matter import FrontMatter, read_front_matter
from kehoach.parse.softwrap import join_continued, join_soft_wraps
from kehoach.parse.table_reader import is_table_line, line_cells
from kehoach.parse.values import small_int
from kehoach.read.provenance import ocr_lines
from kehoach.read.sources import SourceText

log = logging.getLogger(__name__)

_RELATED = re.compile(r"^-\s*(\d+)[.)]?\s+(\S.*)$")
# A complete text ends a sentence, a table row or a bracket.
_FINISHED = re.compile(r"[.;:!?…)\]|\"”’]$")
# Every state document closes with its recipients ('Nơi nhận:') and the signature.
_RECIPIENTS = re.compile(r"^\s*Nơi nhận\s*:", re.IGNORECASE)
_RECIPIENTS_WORDS = (caseless("Nơi nhận"),)  # what a line it matches holds once caseless
_PROVINCE_IN_TEXT = re.compile(r"\b(TỈNH|THÀNH PHỐ)\s+(.+?)(?=\s+NĂM\b|\s+GIAI ĐOẠN\b|\s+ĐẾN\b|$)", re.IGNORECASE)
_YEAR_IN_TITLE = re.compile(r"\bNĂM\s+(\d{4})\b", re.IGNORECASE)
# A plan over a period: 'giai đoạn 2021-2025', or 'đến năm 2025, định hướng đến năm 2030' (the first horizon
# is the plan's; the orientation year after it is not).
_PERIOD_RANGE = re.compile(r"\bGIAI ĐOẠN\s+(\d{4})\s*[-–]\s*(\d{4})\b", re.IGNORECASE)
_HORIZON = re.compile(r"\bĐẾN NĂM\s+(\d{4})\b", re.IGNORECASE)


class RelatedEntry(NamedTuple):
    """One entry of the leading list (a named tuple: cheap to make for a list of tens of thousands)."""

    line: int
    position: int
    text: str  # as written: the entry's reader cleans it (once, not here too)


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
    period_start: int | None = None
    period_end: int | None = None
    # What the page's metadata table states ('Số hiệu', 'Ngày ban hành', …): field -> (value, line).
    metadata: dict[str, tuple[str, int]] = field(default_factory=dict)

    @property
    def plan_id(self) -> str:
        """Stable id from what the document says of itself: province, number, year."""
        return slug(f"{self.province}-{self.number}-{self.issued_date.year}")

    @property
    def province_full(self) -> str:
        return f"{self.province_unit} {self.province}"


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
    ocr_lines: frozenset[int] = frozenset()  # lines OCR read: their headers and labels are matched tolerantly

    @property
    def path(self) -> str:
        return self.source.path

    def body_lines(self) -> list[tuple[int, str]]:
        return [(n, self.source.line(n)) for n in range(self.body_start, self.body_end + 1)]


@cache
def _provinces() -> dict[str, dict[str, str]]:
    return {key(r["name_vi"]): r for r in vocabulary("provinces")}


def parse_document(source: SourceText) -> PlanDocument:
    lines = source.lines
    path = source.path
    related, i = read_related(lines, path)
    header, body_start = _parse_header(lines, i, path)
    appendix_starts = find_appendix_starts(lines, body_start)
    body_stop = appendix_starts[0] if appendix_starts else _footnote_start(lines, body_start)
    end, signature = _signature(lines, body_start, body_stop)
    if not signature and not appendix_starts:
        cut = unfinished_end(lines)
        if cut:
            raise KehoachError("the text ends mid-document (no signature block, no appendix, last line "
                               "unfinished): it looks cut off", path, cut)
    read_by_ocr = ocr_lines(source.line_confidences)  # their table headers are matched tolerantly
    # Hard-wrapped paragraphs and headings are rejoined before the narrative is read.
    source = replace(source, lines=join_soft_wraps(lines, body_start, end, read_by_ocr))
    doc = PlanDocument(source, related, header, body_start + 1, end, signature, ocr_lines=read_by_ocr)

    for k, start in enumerate(appendix_starts):
        stop = appendix_starts[k + 1] if k + 1 < len(appendix_starts) else len(lines)
        appendices, table_end = parse_appendices(lines, start, stop, path, read_by_ocr)
        doc.appendices.extend(appendices)
        if k + 1 == len(appendix_starts):
            doc.footnotes = _parse_footnotes(lines, table_end)
    if not appendix_starts:
        doc.footnotes = _parse_footnotes(lines, body_stop)
    # Readers of whole lines (citations) see a wrapped table row as the one line it stands for.
    continued = [n for a in doc.appendices for t in a.tables for n in t.continued]
    doc.source = replace(doc.source, lines=join_continued(doc.source.lines, continued))
    return doc


def read_related(lines: tuple[str, ...], path: str) -> tuple[list[RelatedEntry], int]:
    """The leading list(s) of related documents; returns them and the index of the first other line.
    A list number beyond int64 is refused on its line (``path``)."""
    related: list[RelatedEntry] = []
    for i, line in enumerate(lines):
        text = line.strip()
        m = _RELATED.match(text)
        if m:
            position = small_int(m[1])
            if position is None:
                raise KehoachError(f"list number {m[1][:20]}… is too large", path, i + 1)
            related.append(RelatedEntry(i + 1, position, m[2]))
        elif text:
            return related, i
    return related, len(lines)


def _signature(lines: tuple[str, ...], body_start: int, body_stop: int) -> tuple[int, list[tuple[int, str]]]:
    """The signature block is the run of table lines closing the body; returns the body's end and it."""
    end = body_stop
    while end > body_start and (not lines[end - 1].strip() or is_table_line(lines[end - 1])):
        end -= 1
    signature = [
        (n + 1, " ".join(c for c in line_cells(lines[n]) if c))
        for n in range(end, body_stop)
        if lines[n].strip()
    ]
    return end, signature


def unfinished_end(lines: tuple[str, ...]) -> int | None:
    """The last line when the text stops mid-sentence or mid-word (a copy cut off), else None.

    A text whose closing is there (the recipients' list, 'Nơi nhận:', then the
    signature, printed as plain lines by some sites) is complete however its last line ends.
    """
    last = next((n for n in range(len(lines) - 1, -1, -1) if lines[n].strip()), None)
    if last is None or _FINISHED.search(lines[last].strip()):
        return None
    folded = caseless("\n".join(lines)).split("\n")  # caseless per character: line for line the same
    if any(_RECIPIENTS.match(lines[n]) for n in lines_holding(folded, _RECIPIENTS_WORDS)):
        return None
    return last + 1


def _footnote_start(lines: tuple[str, ...], start: int) -> int:
    """Footnotes are the trailing run of lines that starts with '[n] '."""
    first = len(lines)
    for n in range(len(lines) - 1, start - 1, -1):
        if FOOTNOTE.match(lines[n].strip()):
            first = n
        elif lines[n].strip() and first != len(lines) and n < first - 1:
            break
    return first


def _parse_footnotes(lines: tuple[str, ...], start: int) -> list[Footnote]:
    # Each note's lines are gathered and cleaned once: cleaning the text so far at each
    # continuation line made a long note quadratic.
    notes: list[tuple[str, int, list[str]]] = []  # (marker, line, texts)
    for n in range(start, len(lines)):
        text = lines[n].strip()
        m = FOOTNOTE.match(text)
        if m:
            notes.append((m[1], n + 1, [m[2]]))
        elif text and notes:
            notes[-1][2].append(text)
    return [Footnote(marker, clean(" ".join(texts)), line) for marker, line, texts in notes]


def _parse_header(lines: tuple[str, ...], start: int, path: str) -> tuple[PlanHeader, int]:
    fm = read_front_matter(lines, start, path)
    header = header_from(fm, path, start, len(lines))
    for problem in fm.problems:  # e.g. the metadata table and the header disagree: said, never settled silently
        log.warning("%s:%s: %s", path, problem.line, problem.message)
    return header, fm.body_start


def header_from(fm: FrontMatter, path: str, start: int = 0, line_count: int | None = None) -> PlanHeader:
    """The plan header from what the front matter says; a located error for what it lacks."""
    if fm.number is None:
        raise KehoachError(
            "no document header: expected a line with the plan number ('Số: …/KH-…') "
            "near the top, after the list of related documents",
            path,
            min(start + 1, line_count or start + 1),  # a file that is all list: its last line
        )
    if fm.issued_date is None:
        raise KehoachError("no issue date ('<place>, ngày d tháng m năm yyyy') in the header", path, fm.number_line)
    if fm.doc_type is None:
        raise KehoachError("expected the document type (e.g. 'KẾ HOẠCH') after the header, and the number "
                           f"{fm.number!r} names no known type", path, fm.date_line)
    if not fm.title_printed:
        raise KehoachError("the document has no title after its type", path, fm.doc_type_line or fm.date_line)
    title_printed = fm.title_printed
    national = national_issuer(fm.issuer_printed)
    if national:
        province, unit = "", ""
        issuer = national
    else:
        province, unit = _find_province([fm.issuer_printed, title_printed], fm.place or "")
        issuer = _issuer_name(fm.issuer_printed, province, unit)
    cased = _sentence_case(title_printed, [province] if province else [])
    title = f"{fm.doc_type} {cased[:1].lower()}{cased[1:]}"
    start, end, plan_year = plan_period(title_printed, fm.issued_date.year)
    return PlanHeader(
        number=fm.number,
        number_line=fm.number_line,
        doc_type=fm.doc_type,
        doc_type_line=fm.doc_type_line or fm.number_line,
        issuer=issuer,
        issuer_printed=fm.issuer_printed,
        province=province,
        province_unit=unit,
        place=fm.place or "",
        issued_date=fm.issued_date,
        title_printed=title_printed,
        title=title,
        title_line=fm.title_line or fm.number_line,
        plan_year=plan_year,
        period_start=start,
        period_end=end,
        metadata=dict(fm.metadata),
    )


def plan_period(title: str, issued_year: int) -> tuple[int | None, int | None, int | None]:
    """(first year, last year, plan year) a title names: a period ('giai đoạn 2021-2025';
    'đến năm 2025, định hướng đến năm 2030', from the year of issue) has no single plan year;
    a one-year plan ('năm 2024') covers its year."""
    span = _PERIOD_RANGE.search(title)
    if span:
        return int(span[1]), int(span[2]), None
    horizon = _HORIZON.search(title)
    if horizon:
        return min(issued_year, int(horizon[1])), int(horizon[1]), None
    years = _YEAR_IN_TITLE.findall(title)
    year = int(years[-1]) if years else None
    return year, year, year


def national_issuer(printed: str) -> str | None:
    """'BỘ TÀI NGUYÊN VÀ MÔI TRƯỜNG' -> 'Bộ Tài nguyên và Môi trường' when it is a national body."""
    k = key(printed)
    return next((r["name_vi"] for r in vocabulary("issuers") if r["scope"] == "national" and key(r["name_vi"]) == k),
                None)


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
    # Words with digits are numbers or document symbols ('01/NQ-CP'): kept as printed.
    lowered = " ".join(w if any(c.isdigit() for c in w) else w.lower() for w in text.split(" "))
    for noun in proper_nouns:
        lowered = re.sub(re.escape(noun.lower()), noun, lowered)
    return lowered[:1].upper() + lowered[1:]
