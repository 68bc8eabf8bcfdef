"""The front matter of a plan (number, date, issuer, type, title), read by structure.

Sites lay the same header out in many ways: a pipe table (``ỦY BAN NHÂN DÂN |
CỘNG HÒA … |``), plain lines between ``-------`` rules and blank lines, one
block per header cell split by lone ``|`` lines, everything on one line, or
hard-wrapped (``Hải Dương, ngày`` / ``05 tháng 6 năm 2023``). Some pages start
with site chrome (a banner, the title printed again) or a key/value metadata
table (``| Số hiệu | 121/KH-UBND |``, or ``Số hiệu: … Loại văn bản: …``).

The reader therefore ignores line structure: the header lines become a stream
of *segments* (one per cell, rules and empty cells dropped) joined by newlines,
and the number, the place and date, and the issuer are found in that stream.
Metadata rows are read apart and compared with the header: a disagreement is a
problem reported with its line, never settled silently. Missing fields are
problems too; ``document.parse_document`` turns the blocking ones into errors,
``kehoach inspect`` lists them all.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from kehoach.core.errors import KehoachError
from kehoach.core.text import clean, key
from kehoach.core.vocabularies import vocabulary
from kehoach.parse.page_text import is_capitals, strip_leftovers
from kehoach.parse.table_reader import is_header_start
from kehoach.parse.values import find_long_date, parse_dmy

# The plan's own number starts a segment: 'Số: 219/KH-UBND', also wrapped ('Số:' / '424/QĐ-UBND').
_NUMBER = re.compile(r"^[ \t]*Số\s*[:.]?\s*(\d+[^\s|,;]*/[^\s|,;]+)", re.IGNORECASE | re.MULTILINE)
_PLACE_DATE = re.compile(r"([^\n|,]*?)\s*,\s*ngày\s+\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}", re.IGNORECASE)
# The date after the place, looked for first: the place's lazy run, tried from every position,
# cost a millisecond on the paragraph that ends the header (which holds no such date).
_DATE_AFTER_PLACE = re.compile(r",\s*ngày\s+\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}", re.IGNORECASE)
_RULE_EDGE = re.compile(r"^[\s\-_=*]*-{3,}[\s\-_=*]*|[\s\-_=*]*-{3,}[\s\-_=*]*$")
_OUTLINE_HEADING = re.compile(r"^(?:PHẦN\s+(?:[IVXLC]+|\d+)\b|[IVXLC]+\.\s)", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_SYMBOL = re.compile(r"\d+/[^\W\d_]")  # a document number ('281/KH-UBND')
# A line of running text ends the header: many words, not in capitals.
PROSE_WORDS = 20
# Parts of the header that are the same on every Vietnamese state document.
MOTTO = ("cộng hòa xã hội chủ nghĩa việt nam", "cộng hoà xã hội chủ nghĩa việt nam", "độc lập - tự do - hạnh phúc")
_MOTTO = re.compile("|".join(r"\s*-?\s*".join(map(re.escape, m.split())) for m in MOTTO), re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


@dataclass
class FrontMatter:
    """What the header says; ``None`` where it says nothing (see ``problems``)."""

    number: str | None = None
    number_line: int | None = None
    doc_type: str | None = None
    doc_type_line: int | None = None
    issuer_printed: str = ""
    place: str | None = None
    issued_date: date | None = None
    date_line: int | None = None
    title_printed: str = ""
    title_line: int | None = None
    body_start: int = 0  # 0-based index of the first line after the title
    metadata: dict[str, tuple[str, int]] = field(default_factory=dict)
    layout: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(line or 1, message))


@cache
def _metadata_labels() -> dict[str, str]:
    return {key(r["label"]): r["field"] for r in vocabulary("metadata_fields")}


@cache
def _metadata_inline() -> re.Pattern[str]:
    labels = sorted((r["label"] for r in vocabulary("metadata_fields")), key=len, reverse=True)
    return re.compile(r"(?:^|\s)(" + "|".join(map(re.escape, labels)) + r")\s*:\s*", re.IGNORECASE)


@cache
def _doc_types() -> tuple[dict[str, str], ...]:
    return tuple(sorted(vocabulary("doc_types"), key=lambda r: len(r["name_vi"]), reverse=True))


def doc_type_at_start(text: str) -> str | None:
    """'KẾ HOẠCH CHUYỂN ĐỔI SỐ …' -> 'Kế hoạch' (the vocabulary's spelling)."""
    k = key(text)
    return next((r["name_vi"] for r in _doc_types() if k == key(r["name_vi"]) or k.startswith(key(r["name_vi"]) + " ")),
                None)


def doc_type_of_number(number: str) -> str | None:
    """'121/KH-UBND' -> 'Kế hoạch', from the type code after the slash."""
    code = number.split("/", 1)[-1].split("-", 1)[0]
    return next((r["name_vi"] for r in _doc_types() if r["code"] and r["code"].casefold() == code.casefold()), None)


def without_motto(text: str) -> str:
    return clean(_MOTTO.sub(" ", text))


def is_prose(text: str) -> bool:
    return len(_WORD.findall(text)) >= PROSE_WORDS and not is_capitals(text)


def _place_date(text: str, start: int = 0) -> re.Match | None:
    """'Quảng Ngãi, ngày 20 tháng 12 năm 2023' in ``text`` from ``start``: the place and the date."""
    return _PLACE_DATE.search(text, start) if _DATE_AFTER_PLACE.search(text, start) else None


def _segments(text: str) -> list[str]:
    """Cells of one header line, rules and empty cells dropped."""
    cells = text.split("|") if "|" in text else [text]
    out = []
    for cell in cells:
        cell = clean(_RULE_EDGE.sub(" ", cell))
        if cell and not set(cell) <= set("-_=* "):
            out.append(cell)
    return out


def _metadata_row(cells: list[str]) -> tuple[str, str] | None:
    if len(cells) == 2:
        name = _metadata_labels().get(key(cells[0]))
        if name:
            return name, cells[1]
    return None


def _inline_metadata(text: str) -> list[tuple[str, str]]:
    """'Số hiệu: 12/KH-UBND Loại văn bản: Kế hoạch' -> [('number', …), ('doc_type', …)]."""
    found = list(_metadata_inline().finditer(text))
    if not found or found[0].start() != 0:
        return []
    labels = _metadata_labels()
    pairs = []
    for m, nxt in zip(found, [*found[1:], None], strict=True):
        value = clean(text[m.end():nxt.start() if nxt else len(text)])
        pairs.append((labels[key(m[1])], value))
    return pairs


class _Stream:
    """The header's segments joined by newlines, with the line each character came from."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.starts: list[int] = []
        self.lines: list[int] = []
        self.size = 0

    def add(self, text: str, line: int) -> None:
        self.starts.append(self.size + (1 if self.parts else 0))
        self.size = self.starts[-1] + len(text)
        self.parts.append(text)
        self.lines.append(line)

    @property
    def text(self) -> str:
        return "\n".join(self.parts)

    def line_at(self, offset: int) -> int:
        return self.lines[max(0, bisect.bisect_right(self.starts, offset) - 1)]

    def segments_before(self, offset: int) -> list[str]:
        return [p for p, s in zip(self.parts, self.starts, strict=True) if s < offset]


def read_front_matter(lines: tuple[str, ...], start: int, path: str) -> FrontMatter:
    """Read the header starting at ``lines[start]`` (0-based); never raises for a missing field."""
    fm = FrontMatter(body_start=start)
    stream = _header_stream(lines, start, fm)
    text = stream.text
    number = _NUMBER.search(text)
    if number:
        fm.number = clean(number[1]).replace(" ", "")
        fm.number_line = stream.line_at(number.start(1))
        if "\n" in number[0].strip():
            fm.layout.append("hard-wrapped")
    found = _place_date(text, number.end() if number else 0)
    if found:
        fm.place = clean(found[1]) or None
        fm.date_line = stream.line_at(found.start())
        try:
            fm.issued_date = find_long_date(found[0].replace("\n", " "))
        except KehoachError as exc:
            fm.problem(fm.date_line, exc.message)
        if "\n" in found[0].strip() and "hard-wrapped" not in fm.layout:
            fm.layout.append("hard-wrapped")
    fm.issuer_printed = _issuer(stream.segments_before(number.start() if number else found.start() if found else 0))
    if found:
        _read_type_and_title(lines, stream, found.end(), fm)
    _apply_metadata(fm)
    return fm


def _header_stream(lines: tuple[str, ...], start: int, fm: FrontMatter) -> _Stream:
    """Segments of the header lines, up to the first line of running text or table."""
    stream = _Stream()
    for n in range(start, len(lines)):
        raw = strip_leftovers(lines[n])
        text = clean(raw)
        if (is_prose(text) and not _NUMBER.search(text) and not _place_date(text)) or is_header_start(raw):
            break
        if raw.strip() == "|":
            _add_layout(fm, "cell-blocks")
            continue
        cells = _segments(raw)
        row = _metadata_row([clean(c) for c in raw.split("|") if clean(c)]) if "|" in raw else None
        pairs = [row] if row else _inline_metadata(text)
        if pairs:
            _add_layout(fm, "metadata")
            for name, value in pairs:
                fm.metadata.setdefault(name, (value, n + 1))
            continue
        if len(cells) > 1:
            _add_layout(fm, "pipe-cells")
        for cell in cells:
            stream.add(cell, n + 1)
    return stream


def _add_layout(fm: FrontMatter, feature: str) -> None:
    if feature not in fm.layout:
        fm.layout.append(feature)


def _issuer(segments: list[str]) -> str:
    """The last run of capitals before the number ('ỦY BAN NHÂN DÂN' 'TỈNH HẢI DƯƠNG').

    Site chrome ('Hệ thống pháp luật', a title printed in sentence case) breaks
    the run; the national motto is left out wherever it sits, also when it is
    wrapped over several segments ('CỘNG HÒA XÃ HỘI' / 'CHỦ NGHĨA VIỆT NAM').
    """
    run: list[str] = []
    for segment in _MOTTO.sub("\n", "\n".join(segments)).split("\n"):
        text = clean(segment)
        if not text:
            continue
        # A page title printed above the header ('KẾ HOẠCH 281/KH-UBND …') is chrome too, even in capitals.
        chrome = not is_capitals(text) or doc_type_at_start(text) or _SYMBOL.search(text)
        run = [] if chrome else [*run, text]
    return " ".join(run)


def _read_type_and_title(lines: tuple[str, ...], stream: _Stream, offset: int, fm: FrontMatter) -> None:
    """Document type and title follow the date: the rest of its line, then lines in capitals."""
    date_end_line = stream.line_at(offset)
    rest = stream.text[offset:].split("\n", 1)[0]
    candidates: list[tuple[int, str]] = []
    if clean(rest):
        candidates.append((date_end_line, clean(rest)))
    for n in range(date_end_line, len(lines)):
        text = " ".join(without_motto(c) for c in _segments(strip_leftovers(lines[n])))
        text = clean(text)
        if not text or ("|" in lines[n] and _metadata_row([clean(c) for c in lines[n].split("|") if clean(c)])):
            continue
        candidates.append((n + 1, text))
        if not is_capitals(text) or _OUTLINE_HEADING.match(text):
            break
    if not candidates:
        return
    line, first = candidates[0]
    doc_type = doc_type_at_start(first)
    title_parts: list[str] = []
    if doc_type:
        fm.doc_type, fm.doc_type_line = doc_type, line
        remainder = clean(first[len(doc_type):])
        if remainder:
            title_parts.append(remainder)
            fm.title_line = line
        fm.body_start = line
        candidates = candidates[1:]
    for n, text in candidates:
        if not is_capitals(text) or _OUTLINE_HEADING.match(text):
            break
        title_parts.append(text)
        fm.title_line = fm.title_line or n
        fm.body_start = n
    fm.title_printed = without_authority(clean(" ".join(title_parts)), fm.issuer_printed)


@cache
def _authority_titles() -> tuple[str, ...]:
    return tuple(r["title"] for r in vocabulary("authority_titles"))


def without_authority(title: str, issuer: str) -> str:
    """The title without the authority line that follows it before the preamble ('Căn cứ …').

    A decision names who decides right after its title, in capitals like the
    title: the issuer ('ỦY BAN NHÂN DÂN TỈNH TÂY NINH'), or a title of office and
    the issuer ('BỘ TRƯỞNG BỘ TÀI NGUYÊN VÀ MÔI TRƯỜNG'); sites often print it on
    the title's last line. Titles of office are data (``reference/authority_titles.csv``).
    """
    if not issuer:
        return title
    words = title.split()
    for authority in (*(f"{t} {issuer}" for t in _authority_titles()), issuer):
        tail = authority.split()
        if len(words) > len(tail) and [w.casefold() for w in words[-len(tail):]] == [w.casefold() for w in tail]:
            return " ".join(words[: -len(tail)])
    return title


def _apply_metadata(fm: FrontMatter) -> None:
    """Fill what the header lacks from the metadata table; report every disagreement."""
    meta = fm.metadata
    if "number" in meta:
        value, line = meta["number"]
        value = value.replace(" ", "")
        if fm.number is None:
            fm.number, fm.number_line = value, line
            fm.problem(line, f"the header states no number ('Số: …'); {value!r} taken from the metadata table")
        elif key(value) != key(fm.number):
            fm.problem(line, f"metadata number {value!r} differs from the header's {fm.number!r} "
                             f"(line {fm.number_line})")
    if "issued_date" in meta:
        value, line = meta["issued_date"]
        try:
            stated = parse_dmy(value)
        except KehoachError:
            fm.problem(line, f"metadata issue date {value!r} is not a d/m/yyyy date")
        else:
            if fm.issued_date is None:
                fm.issued_date, fm.date_line = stated, line
                fm.problem(line, f"the header states no issue date; {value} taken from the metadata table")
            elif stated != fm.issued_date:
                fm.problem(line, f"metadata issue date {value} differs from the header's "
                                 f"{fm.issued_date:%d/%m/%Y} (line {fm.date_line})")
    _apply_doc_type(fm)


def _apply_doc_type(fm: FrontMatter) -> None:
    meta_value, meta_line = fm.metadata.get("doc_type", ("", None))
    stated = doc_type_at_start(meta_value) if meta_value else None
    if meta_value and stated is None:
        fm.problem(meta_line, f"metadata document type {meta_value!r} is not in reference/doc_types.csv")
    if fm.doc_type is not None:
        if stated and stated != fm.doc_type:
            fm.problem(meta_line, f"metadata document type {stated!r} differs from the header's {fm.doc_type!r} "
                                  f"(line {fm.doc_type_line})")
        return
    by_number = doc_type_of_number(fm.number) if fm.number else None
    if stated and by_number and stated != by_number:
        fm.problem(meta_line, f"metadata document type {stated!r} differs from the type code of {fm.number!r}")
    fm.doc_type = stated or by_number
    fm.doc_type_line = meta_line if stated else fm.number_line
    if fm.doc_type:
        source = "the metadata table" if stated else f"the type code of {fm.number}"
        fm.problem(fm.title_line or fm.number_line,
                   f"no document-type line after the header; {fm.doc_type!r} taken from {source}")
