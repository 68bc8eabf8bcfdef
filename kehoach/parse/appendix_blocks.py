"""Appendices of a plan text: where each starts, and its title, note, unit and tables.

An appendix starts at a 'PHỤ LỤC n' heading (also 'PHỤ LỤC SỐ 02 TITLE (Kèm
theo …)' on one line); its title and issuing note follow, then an optional
unit line ('ĐVT: Triệu đồng') and one or more tables, each perhaps under its
own sub-heading. It ends at the next appendix or at the footnotes; a title in
capitals over a table of another kind starts the next appendix without a
'PHỤ LỤC' line (``parse_appendices``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kehoach.core.errors import KehoachError
from kehoach.core.numerals import roman_numeral, roman_value
from kehoach.core.text import clean, holds_any, key, lines_holding
from kehoach.parse.page_text import is_capitals, page_clean
from kehoach.parse.table_kinds import table_kinds
from kehoach.parse.table_reader import PipeTable, is_header_start, is_table_line, read_table
from kehoach.parse.values import unit_factors

# 'PHỤ LỤC 2', '**PHỤ LỤC II**', or 'PHỤ LỤC SỐ 02 TITLE IN CAPITALS (Kèm theo …)' on one line.
_APPENDIX = re.compile(r"^PHỤ\s+LỤC(?:\s+(?:SỐ\s+)?([0-9]+|[IVXLC]+|[A-Z])\b)?\s*[:.]?\s*(.*)$", re.IGNORECASE)
# A numbered sub-heading ('II. CHỈ TIÊU CỤ THỂ', '1) …', 'a. …') introduces a table of the same appendix.
_NUMBERED = re.compile(r"^(?:[IVXLC]+|\d+(?:\.\d+)*|[A-Za-z])\s*[.):]\s")
_UNIT = re.compile(r"^\(?\s*(?:ĐVT|Đơn vị tính|Đơn vị)\s*[:.]\s*(.+?)\s*\)?$", re.IGNORECASE)
# Tesseract doubles or misreads a letter of the unit's short label ('ĐĐVT', 'ĐĐVI' for 'ĐVT'): on a line OCR
# read, any one short word before the colon is taken for the label when what follows is a known money unit
# (``reference/units.csv``, matched exactly).
_OCR_UNIT = re.compile(r"^\(?\s*[^\W\d_]{2,6}\s*[:.]\s*(.+?)\s*\)?$")
FOOTNOTE = re.compile(r"^\[(\d+)\]\s*(.*)$")
# A heading holds 'ục' (PHỤ LỤC) in one of the cases ``re.IGNORECASE`` matches, or the combining
# dot below that ``page_clean``'s NFC may join to a 'u' once a page marker between them is removed:
# a line holding none of these is not a heading, and is not cleaned and matched (every line of the
# body is asked).
_HEADING_LETTERS = ("ục", "ỤC", "Ục", "ụC", "\u0323")


@dataclass
class Appendix:
    label: str
    heading_line: int
    title: str
    note: str
    unit_text: str | None
    unit_line: int | None
    # Usually one table; some appendices hold several, each under its own sub-heading ('I. CHỈ TIÊU CHỦ YẾU').
    tables: list[PipeTable] = field(default_factory=list)

    @property
    def table(self) -> PipeTable | None:
        return self.tables[0] if self.tables else None


def appendix_heading(line: str) -> tuple[str, str, str] | None:
    """(label, title, note) of an appendix heading line, or None for any other line."""
    if not holds_any(line, _HEADING_LETTERS):
        return None
    m = _APPENDIX.match(page_clean(line))
    if not m:
        return None
    title, _, note = m[2].partition("(")
    if title and not is_capitals(title):
        return None  # 'Phụ lục 1 kèm theo.' is a sentence, not a heading
    return (m[1] or "").upper(), clean(title), clean(note).removesuffix(")")


def find_appendix_starts(lines: tuple[str, ...], start: int) -> list[int]:
    return [start + k for k in lines_holding(lines[start:], _HEADING_LETTERS) if appendix_heading(lines[start + k])]


def appendix_starts_and_blocks(
    lines: tuple[str, ...], start: int, path: str, ocr_lines: frozenset[int] = frozenset()
) -> list[tuple[Appendix | None, KehoachError | None]]:
    """Every appendix from ``lines[start]`` on, each 'PHỤ LỤC' block read on its own: (appendix, None) for each
    appendix it holds, or (None, its error)."""
    starts = find_appendix_starts(lines, start)
    out: list[tuple[Appendix | None, KehoachError | None]] = []
    for k, first in enumerate(starts):
        stop = starts[k + 1] if k + 1 < len(starts) else len(lines)
        try:
            out.extend((appendix, None) for appendix in parse_appendices(lines, first, stop, path, ocr_lines)[0])
        except KehoachError as exc:
            out.append((None, exc))
    return out


def parse_appendices(lines: tuple[str, ...], start: int, stop: int, path: str,
                     ocr_lines: frozenset[int] = frozenset()) -> tuple[list[Appendix], int]:
    """The appendix whose heading is at ``lines[start]`` and those its titled tables start, up to ``stop``;
    returns them and the line where reading stopped (its footnotes, or ``stop``). Header labels on
    ``ocr_lines`` (read by OCR) are matched tolerantly (``table_header.classify_label``).

    A transcription may give an appendix no 'PHỤ LỤC' line: its title in capitals ('DANH MỤC CÁC NHIỆM
    VỤ …', 'BẢNG …') follows the previous appendix's table and heads a table of another kind (tasks after
    indicators). It is the next appendix, numbered after the previous one.
    """
    label, title, note = appendix_heading(lines[start])
    found: list[Appendix] = []
    n = start + 1
    while True:
        appendix, n, titled = _parse_appendix(
            lines, n, stop, path, Appendix(label, start + 1, title, note, None, None), ocr_lines
        )
        found.append(appendix)
        if not titled:
            return found, n
        start, label, title, note = n, next_label(appendix.label), "", ""


def _parse_appendix(
    lines: tuple[str, ...], n: int, stop: int, path: str, appendix: Appendix, ocr_lines: frozenset[int]
) -> tuple[Appendix, int, bool]:
    """The title, note, unit and tables of ``appendix`` from ``lines[n]``, up to ``stop`` or its footnotes:
    (the appendix, where reading stopped, whether it stopped at the title of a table of another kind that
    starts the next appendix).

    Text after the first table only introduces the next table (a sub-heading such as 'II. CHỈ TIÊU CỤ
    THỂ'), unless it is a title that starts an appendix (``_starts_appendix``).
    """
    title_parts: list[str] = [appendix.title] if appendix.title else []
    lead: list[tuple[int, str]] = []  # the text since the last table: (line index, text)
    titled = False
    while n < stop and not FOOTNOTE.match(lines[n].strip()):
        text = page_clean(lines[n])
        if is_header_start(lines[n], n + 1 in ocr_lines):
            table = read_table(lines, n, path, ocr_lines)
            if appendix.tables and _starts_appendix(lead, appendix.tables[-1], table):
                n, titled = lead[0][0], True
                break
            appendix.tables.append(table)
            lead = []
            n = table.end_line
            continue
        if is_table_line(lines[n]):
            raise KehoachError(
                "table without a header row (expected 'TT | …' naming the columns)", path, n + 1
            )
        first = n
        m = unit_line(text, n + 1 in ocr_lines)
        while text.startswith("(") and not text.endswith(")") and n + 1 < stop and not is_table_line(lines[n + 1]):
            n += 1  # a note wrapped over several lines
            text = clean(f"{text} {page_clean(lines[n])}")
        if appendix.tables:
            if text:
                lead.append((first, text))
        elif m:
            appendix.unit_text, appendix.unit_line = clean(m[1]), n + 1
        elif text.startswith("(") and text.endswith(")"):
            appendix.note = text[1:-1]
        elif text:
            title_parts.append(text)
        n += 1
    appendix.title = clean(" ".join(title_parts))
    return appendix, n, titled


def unit_line(text: str, read_by_ocr: bool = False) -> re.Match[str] | None:
    """``text`` (cleaned) as a unit line ('ĐVT: Triệu đồng'; group 1 the unit), tolerantly when OCR read it."""
    m = _UNIT.match(text)
    if m or not read_by_ocr:
        return m
    m = _OCR_UNIT.match(text)
    return m if m and key(m[1]) in unit_factors() else None


def _starts_appendix(lead: list[tuple[int, str]], previous: PipeTable, table: PipeTable) -> bool:
    """Whether the text between two tables is an appendix's title: unnumbered lines in capitals, then at
    most its note and unit, over a table of another kind than the one before."""
    titles = [text for _, text in lead if not text.startswith("(") and not _UNIT.match(text)]
    if not titles or titles != [text for _, text in lead[:len(titles)]]:
        return False
    if not all(is_capitals(t) and not _NUMBERED.match(t) for t in titles):
        return False
    kinds = table_kinds(table)
    return bool(kinds) and kinds != table_kinds(previous)


def next_label(label: str) -> str:
    """The label after ``label`` ('I' -> 'II', '02' -> '03', 'A' -> 'B'); '' when it has no successor. A
    letter alone is a letter ('C' -> 'D'), but for the numerals that start a count ('I', 'V', 'X')."""
    if label.isdigit():
        return str(int(label) + 1).zfill(len(label))
    if label in ("I", "V", "X") or (len(label) > 1 and set(label) <= set("IVXLC")):
        return roman_numeral(roman_value(label) + 1)
    if len(label) == 1 and "A" <= label < "Z":
        return chr(ord(label) + 1)
    return ""
