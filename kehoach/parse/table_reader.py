"""One reader for every appendix table, whatever its columns.

Legal-document sites render a table row as ``cell | cell | ... |`` and an
*empty* cell as a line break, so one row can span several lines::

    1.1 | Truyền thông về chuyển đổi số | 800 |
    | 624 |
    | Sở TT&TT, Tư Nghĩa, ... |

Splitting every line on ``|`` (dropping the part after the last bar) yields
the cells in order, an empty cell wherever a line starts with ``|``. The
header's first line gives the column count N; data cells are then read in
rhythms of N. Multi-row headers (colspans padded with trailing empty cells,
rowspans omitted from later header rows) are rebuilt into a column tree
using the header vocabulary in ``reference/table_headers.csv``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from kehoach.core.errors import KehoachError
from kehoach.core.numerals import roman_value
from kehoach.core.text import clean
from kehoach.parse.table_header import (
    Column,
    build_columns,
    build_columns_in_place,
    classify_label,
    spanned_columns,
    spans_in_place,
)
from kehoach.parse.table_rows import Cell, is_markdown_line, markdown_rows, rhythm_rows, split_line, square
from kehoach.parse.values import INT64_MAX, small_int

# Row numbers: '1', '1.1', '1.1.2', with typists' variants '9 2', '1.1.', '1,2'.
_CODE = re.compile(r"^(?P<parts>\d+(?:\s*[.,]\s*\d+|\s+\d+)*)\s*\.?$")
_ROMAN = re.compile(r"^(?P<roman>[IVXLC]+)\.?$")
_CODE_PARTS = re.compile(r"\s*[.,]\s*|\s+")


def line_cells(line: str) -> list[str]:
    """Cells of one table line; the text after the last '|' is not a cell."""
    parts = line.split("|")
    tail = parts.pop()
    if tail.strip():
        parts.append(tail)  # a line not closed by '|' still carries a cell
    return [clean(p) for p in parts]


def is_table_line(line: str) -> bool:
    return "|" in line


@dataclass(frozen=True)
class Code:
    """A row number as written and as normalised ('9 2' -> '9.2')."""

    text: str
    normalized: str
    parts: tuple[int, ...]
    anomaly: str | None = None
    roman: bool = False  # 'I', 'II': group rows above arabic-numbered items

    @property
    def depth(self) -> int:
        return len(self.parts)


# Row numbers this long or shorter are read once per text (most are: '1.2', 'II'); the bound keeps the cache small.
_SHORT_CODE = 24


def parse_code(text: str) -> Code | None:
    return _parse_short_code(text) if len(text) <= _SHORT_CODE else _parse_code(text)


@lru_cache(maxsize=4096)
def _parse_short_code(text: str) -> Code | None:
    return _parse_code(text)


def _parse_code(text: str) -> Code | None:
    t = clean(text)
    m = _CODE.match(t)
    numbers = [small_int(p) for p in _CODE_PARTS.split(m["parts"])] if m else []
    if m and None not in numbers:  # a part beyond int64 is no row number
        parts = tuple(numbers)
        normalized = ".".join(str(p) for p in parts)
        raw = m["parts"]
        anomaly = None
        if re.search(r"\d\s+\d", raw):
            anomaly = "space instead of '.' between levels"
        elif "," in raw:
            anomaly = "',' instead of '.' between levels"
        elif re.search(r"\s", raw):
            anomaly = "spaces around '.'"
        return Code(t, normalized, parts, anomaly)
    m = _ROMAN.match(t)
    if m and roman_value(m["roman"]):
        return Code(t, m["roman"], (roman_value(m["roman"]),), roman=True)
    return None


def oversized_code(text: str) -> str | None:
    """The error for a row number whose parts are digits but one goes beyond int64 ('9' * 32), else None."""
    m = _CODE.match(clean(text))
    if not m or all(small_int(p) is not None for p in _CODE_PARTS.split(m["parts"])):
        return None
    shown = m["parts"] if len(m["parts"]) <= 24 else m["parts"][:20] + "…"
    return f"row number {shown} is too large (each level at most {INT64_MAX:,})"


def is_header_start(line: str, tolerant: bool = False) -> bool:
    """A table begins with a header line whose first cell is the row-number column (``tolerant``: the
    line was read by OCR, see ``classify_label``)."""
    if not is_table_line(line):
        return False
    cells, _ = split_line(line, markdown=is_markdown_line(line))
    found = classify_label(cells[0], tolerant) if cells and cells[0] else None
    return bool(found and found[0].role == "code")


# --- the table itself ---------------------------------------------------------

@dataclass
class Row:
    cells: list[Cell]

    @property
    def line(self) -> int:
        return self.cells[0].line

    def text(self, index: int) -> str:
        return self.cells[index].text


@dataclass
class PipeTable:
    path: str
    header_line: int
    end_line: int  # last line of the table
    columns: list[Column]
    rows: list[Row]
    continued: tuple[int, ...] = ()  # lines that continue a wrapped cell of the line above
    _by_roles: dict[tuple[str, ...], tuple[Column, ...]] = field(default_factory=dict, init=False, repr=False,
                                                                 compare=False)

    def columns_with(self, role: str) -> tuple[Column, ...]:
        return self.columns_in((role,))

    def columns_in(self, roles: tuple[str, ...]) -> tuple[Column, ...]:
        """The columns with one of ``roles``, in order: found once per table, not at each of its rows."""
        found = self._by_roles.get(roles)
        if found is None:
            found = self._by_roles[roles] = tuple(c for c in self.columns if c.role in roles)
        return found

    def column(self, role: str) -> Column | None:
        found = self.columns_with(role)
        return found[0] if found else None

    @property
    def tolerated(self) -> bool:
        """A header label was matched only with its accents folded (read by OCR): every row is in doubt."""
        return any(c.tolerated for c in self.columns)


def read_table(lines: tuple[str, ...], start: int, path: str, ocr_lines: frozenset[int] = frozenset()) -> PipeTable:
    """Read the table whose header is at ``lines[start]`` (0-based index), in either encoding.

    The table ends at the first line that cannot belong to it (no '|', and no
    wrapped cell open). Raises a located error when the cells do not fill
    whole rows or a row does not start on a new line. A header label on one of
    ``ocr_lines`` (1-based) is matched tolerantly (``classify_label``).
    """
    if is_markdown_line(lines[start]):
        return _read_markdown(lines, start, path)
    first = line_cells(lines[start])
    width = len(first)
    header_rows = [(start + 1, first)]
    i = start + 1
    while i < len(lines) and is_table_line(lines[i]):
        cells = line_cells(lines[i])
        if not _is_header_row(cells, width):
            break
        header_rows.append((i + 1, cells))
        i += 1
    columns = build_columns(header_rows, width, path, ocr_lines)
    cells, i, continued = rhythm_rows(lines, i, width, path, starts_row=lambda text: parse_code(text) is not None)
    return PipeTable(path, start + 1, i, columns, [Row(r) for r in cells], tuple(continued))


def _is_header_row(cells: list[str], width: int) -> bool:
    """A further header row: as wide as the first, labelled, and not a numbered or total row."""
    return len(cells) == width and bool(cells[0]) and not parse_code(cells[0]) and not _is_total_label(cells)


def _read_markdown(lines: tuple[str, ...], start: int, path: str) -> PipeTable:
    """A markdown table: the header row, then (after the separator) further header rows if any.

    A further header row is either a short row of sub-labels, or a row as wide
    as the table whose only cells sit under labels spanning several columns
    (colspans written in place, ``| STT |  | …`` over ``|  | Theo NQ 01 | …``).
    """
    found, end, continued = markdown_rows(lines, start, path)
    width = len(found[0])
    first = [c.text for c in found[0]]
    spanned = spanned_columns(first) if spans_in_place(first) else set()
    header_rows = [(found[0][0].line, first)]
    k = 1
    while k < len(found):
        texts = [c.text for c in found[k]]
        squared = [c.text for c in square(found[k], width, path)]
        if not (_is_header_row(squared, width) or _is_spanned_row(texts, spanned)):
            break
        header_rows.append((found[k][0].line, texts))
        k += 1
    rows = [square(r, width, path) for r in found[k:]]
    return PipeTable(path, start + 1, end, _markdown_columns(header_rows, width, path), [Row(r) for r in rows],
                     tuple(continued))


def _is_spanned_row(cells: list[str], spanned: set[int]) -> bool:
    """A header row of sub-labels written in place: text only in spanned columns, no row number."""
    filled = {i for i, c in enumerate(cells) if c}
    return bool(filled) and filled <= spanned and not (cells[0] and parse_code(cells[0]))


def _markdown_columns(header_rows: list[tuple[int, list[str]]], width: int, path: str) -> list[Column]:
    """Colspans in place when the first row says so; else padded at the end, and in place if that fails."""
    if spans_in_place(header_rows[0][1]):
        return build_columns_in_place(header_rows, width, path)
    try:
        return build_columns(header_rows, width, path)
    except KehoachError:
        if len(header_rows) == 1 or all(header_rows[0][1]):
            raise
        return build_columns_in_place(header_rows, width, path)


def _is_total_label(cells: list[str]) -> bool:
    return not cells[0] and len(cells) > 1 and is_total_label(cells[1])


_TOTAL = re.compile(r"^(tổng cộng|tổng số|tổng|cộng)\b", re.IGNORECASE)
_LABEL_NUMBER = re.compile(r"[:\s]\s*([\d.,]+)\s*$")


def is_total_label(text: str) -> bool:
    return bool(_TOTAL.match(clean(text)))


def total_label_number(text: str) -> str | None:
    """'Tổng: 256.785,7' -> '256.785,7' (a total label may carry its own figure)."""
    m = _LABEL_NUMBER.search(clean(text))
    return m[1] if m and re.search(r"\d", m[1]) else None
