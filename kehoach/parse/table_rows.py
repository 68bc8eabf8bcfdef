"""Cells and rows of a table, whatever encoding the page used.

Two encodings of the same table are met:

- the legal-document sites' (``raw/``): ``cell | cell |``, an *empty* cell
  written as a line break, so a row spans several lines and rows are found by
  the rhythm of the header's column count;
- standard markdown: one line per row, ``| cell | cell |`` with empty cells
  inline and a separator row ``| --- | --- |``; rows may be ragged (short rows
  are padded, empty surplus cells dropped).

In both, a cell's text may wrap: a line whose last cell is not closed by ``|``
continues on the next line, and the break is a space, not a cell boundary.
Page leftovers (``[Link: …]``, bold markers) are removed before splitting.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

from kehoach.core.errors import KehoachError
from kehoach.core.text import clean
from kehoach.parse.page_text import strip_leftovers

_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?$")


class Cell(NamedTuple):
    """One cell (a named tuple: a table of millions of short lines makes as many)."""

    text: str
    line: int


def is_markdown_line(line: str) -> bool:
    """A markdown row starts with '|' (in the sites' encoding the first cell is never empty in a header)."""
    return line.lstrip().startswith("|")


def is_separator(line: str) -> bool:
    return bool(_SEPARATOR.match(line.strip()))


# Lines up to this long are split once per text: a table's short lines ('|', '| - |') repeat, and a text
# of millions of them was split again at each (a bound, so the cache holds little).
_SHORT_LINE = 40


def split_line(line: str, markdown: bool) -> tuple[list[str], bool]:
    """(cells, closed): the cells of one physical line and whether its last cell is closed by '|'."""
    if len(line) <= _SHORT_LINE:
        cells, closed = _split_short(line, markdown)
        return list(cells), closed
    return _split(line, markdown)


@lru_cache(maxsize=1024)
def _split_short(line: str, markdown: bool) -> tuple[tuple[str, ...], bool]:
    cells, closed = _split(line, markdown)
    return tuple(cells), closed


def _split(line: str, markdown: bool) -> tuple[list[str], bool]:
    text = strip_leftovers(line).strip()
    if markdown and text.startswith("|"):
        text = text[1:]
    closed = text.endswith("|")
    parts = text.split("|")
    if closed or not parts[-1].strip():
        parts.pop()
    return [clean(p) for p in parts], closed


def _close(row: list[Cell], tail: list[str]) -> None:
    """The last cell of ``row`` continued by the texts of the lines it wraps onto (then none are left):
    joined once, as merging each line into the text so far made a cell wrapped over many lines quadratic."""
    last = row[-1]
    row[-1] = Cell(clean(" ".join([last.text, *tail])), last.line)
    tail.clear()


def rhythm_rows(
    lines: tuple[str, ...], i: int, width: int, path: str, starts_row: Callable[[str], bool]
) -> tuple[list[list[Cell]], int, list[int]]:
    """Rows of the sites' encoding from ``lines[i]`` on: them, the index after the table, and the
    (1-based) lines that continue a wrapped cell of the line above.

    ``starts_row`` tells a row number from text: when a row's last cell is left
    open, the next line continues it unless that line starts a new row.
    """
    rows: list[list[Cell]] = []
    current: list[Cell] = []
    continued: list[int] = []
    wrapped = False  # the last cell read is still open (its text wraps onto the next line)
    last_row, tail = current, []  # the row of the last cell read, and the texts continuing that cell
    end = len(lines)
    while i < end:
        line = lines[i]
        if "|" in line:
            cells, closed = _split_short(line, False) if len(line) <= _SHORT_LINE else _split(line, False)
        elif wrapped and line.strip():
            cells, closed = [clean(line)], False
        else:
            break
        line_no = i + 1
        if wrapped and not current and cells and (not cells[0] or starts_row(cells[0])):
            wrapped = False  # the open cell ended its row: this line is the next row
        for position, text in enumerate(cells):
            if position == 0 and wrapped:
                tail.append(text)
                continued.append(line_no)
            else:
                if not current and position > 0:
                    raise KehoachError(
                        f"row has more than {width} cells (a row must start on a new line)", path, line_no
                    )
                if tail:
                    _close(last_row, tail)
                current.append(Cell(text, line_no))
                last_row = current
            if len(current) == width:
                rows.append(current)
                current = []
        wrapped = not closed
        i += 1
    if tail:
        _close(last_row, tail)
    if current:
        raise KehoachError(f"table ends mid-row: {len(current)} of {width} cells", path, current[0].line)
    return rows, i, continued


def markdown_rows(lines: tuple[str, ...], i: int, path: str) -> tuple[list[list[Cell]], int, list[int]]:
    """Rows of a markdown table from ``lines[i]`` on (separator rows skipped, not yet squared), the index
    after the table, and the lines that continue the row above."""
    rows: list[list[Cell]] = []
    continued: list[int] = []
    wrapped = False
    tail: list[str] = []  # the texts continuing the last cell of the last row, joined once it closes
    while i < len(lines) and lines[i].strip():
        line = lines[i]
        if is_markdown_line(line):
            if not is_separator(line):
                if tail:
                    _close(rows[-1], tail)
                cells, closed = split_line(line, markdown=True)
                rows.append([Cell(t, i + 1) for t in cells])
                wrapped = not closed
        elif rows and (wrapped or "|" in line):
            cells, closed = split_line(line, markdown=True) if "|" in line else ([clean(line)], False)
            continued.append(i + 1)
            if wrapped and cells and rows[-1]:  # a row of no cell ('|' alone) has none to continue
                tail.append(cells[0])
                cells = cells[1:]
            if tail and cells:
                _close(rows[-1], tail)
            rows[-1].extend(Cell(t, i + 1) for t in cells)
            wrapped = not closed
        else:
            break
        i += 1
    if tail:
        _close(rows[-1], tail)
    return rows, i, continued


def square(row: list[Cell], width: int, path: str) -> list[Cell]:
    """A ragged markdown row made ``width`` cells wide: padded, or its empty surplus dropped."""
    if len(row) < width:
        return row + [Cell("", row[-1].line if row else 0)] * (width - len(row))
    if any(c.text for c in row[width:]):
        raise KehoachError(f"row has {len(row)} cells but the header names {width} columns", path, row[0].line)
    return row[:width]
