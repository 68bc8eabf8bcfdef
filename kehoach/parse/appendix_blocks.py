"""Appendices of a plan text: where each starts, and its title, note, unit and tables.

An appendix starts at a 'PHỤ LỤC n' heading (also 'PHỤ LỤC SỐ 02 TITLE (Kèm
theo …)' on one line); its title and issuing note follow, then an optional
unit line ('ĐVT: Triệu đồng') and one or more tables, each perhaps under its
own sub-heading. It ends at the next appendix or at the footnotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kehoach.core.errors import KehoachError
from kehoach.core.text import clean, holds_any, lines_holding
from kehoach.parse.page_text import is_capitals, page_clean
from kehoach.parse.table_reader import PipeTable, is_header_start, is_table_line, read_table

# 'PHỤ LỤC 2', '**PHỤ LỤC II**', or 'PHỤ LỤC SỐ 02 TITLE IN CAPITALS (Kèm theo …)' on one line.
_APPENDIX = re.compile(r"^PHỤ\s+LỤC(?:\s+(?:SỐ\s+)?([0-9]+|[IVXLC]+|[A-Z])\b)?\s*[:.]?\s*(.*)$", re.IGNORECASE)
_UNIT = re.compile(r"^\(?\s*(?:ĐVT|Đơn vị tính|Đơn vị)\s*[:.]\s*(.+?)\s*\)?$", re.IGNORECASE)
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
    """Every appendix from ``lines[start]`` on, each read on its own: (appendix, None) or (None, its error)."""
    starts = find_appendix_starts(lines, start)
    out: list[tuple[Appendix | None, KehoachError | None]] = []
    for k, first in enumerate(starts):
        stop = starts[k + 1] if k + 1 < len(starts) else len(lines)
        try:
            out.append((parse_appendix(lines, first, stop, path, ocr_lines)[0], None))
        except KehoachError as exc:
            out.append((None, exc))
    return out


def parse_appendix(lines: tuple[str, ...], start: int, stop: int, path: str,
                   ocr_lines: frozenset[int] = frozenset()) -> tuple[Appendix, int]:
    """The appendix heading at ``lines[start]``, its title, note, unit and tables, up to ``stop`` or its footnotes.
    Header labels on ``ocr_lines`` (read by OCR) are matched tolerantly (``table_header.classify_label``).

    Text after the first table (a sub-heading such as 'II. CHỈ TIÊU CỤ THỂ') only introduces the next table.
    """
    label, title, note = appendix_heading(lines[start])
    title_parts: list[str] = [title] if title else []
    unit_text = None
    unit_line = None
    tables: list[PipeTable] = []
    n = start + 1
    while n < stop and not FOOTNOTE.match(lines[n].strip()):
        text = page_clean(lines[n])
        if is_header_start(lines[n], n + 1 in ocr_lines):
            tables.append(read_table(lines, n, path, ocr_lines))
            n = tables[-1].end_line
            continue
        if is_table_line(lines[n]):
            raise KehoachError(
                "table without a header row (expected 'TT | …' naming the columns)", path, n + 1
            )
        m = _UNIT.match(text)
        while text.startswith("(") and not text.endswith(")") and n + 1 < stop and not is_table_line(lines[n + 1]):
            n += 1  # a note wrapped over several lines
            text = clean(f"{text} {page_clean(lines[n])}")
        if tables:
            pass  # a sub-heading introducing the next table
        elif m:
            unit_text, unit_line = clean(m[1]), n + 1
        elif text.startswith("(") and text.endswith(")"):
            note = text[1:-1]
        elif text:
            title_parts.append(text)
        n += 1
    appendix = Appendix(label, start + 1, clean(" ".join(title_parts)), note, unit_text, unit_line, tables)
    return appendix, n
