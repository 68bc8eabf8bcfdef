"""Row numbers OCR misread, put right by the numbering around them (scans only).

A table's first column numbers its rows as a hierarchy ('6.9', '7', '7.1', …,
'7.6', '7.7'): each number follows the one above it at some level (its first
child, or the next at its own level or one above). Tesseract drops a point
('7.7' read '77') or takes a '7' for a '1'; the parser would then read an item
as a group, and the rows under it in the wrong group, or reads a figure as a
mark ('!.7'), and the parse stops there. A number read by OCR that does not
follow the one above, or a cell of figures and marks where a number stands, is
replaced by the one number that both follows the number above and is followed
by the number below, when exactly one does (none or several: left as read).
A comma between its levels is a point ('7,10'): a comma is a point with a
tail a few pixels long, which dust and blur make and unmake (a typist's comma
is the audit's to report on a text, not on a scan).
The repaired cell's confidence is 0 (its text is the numbering's, not
tesseract's), so its row is flagged for review (``kehoach/read/provenance.py``).
A number read from a text layer is never changed: a typist's slip there is the
audit's to report (``numbering_*.sql``).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import replace

from kehoach.read.document import Cell

# '7', '7.1', '7.1.', with the typists' '9 2' and '1,2'
_NUMBER = re.compile(r"^\d+(?:\s*[.,]\s*\d+|\s+\d+)*\s*\.?$")
_PARTS = re.compile(r"\d+")
# a number with a figure misread as a mark or a letter ('!.7' for '7.7', 'l.2' for '1.2'): a figure or
# more, and only what tesseract takes a figure or a point for
_MISREAD = re.compile(r"^(?=.*\d)[\d.,;:!|/\\lIiOo'’ ]{1,8}$")


def renumbered(firsts: list[Cell | None]) -> list[Cell | None]:
    """The first cells of a table's data rows (None: a row without one), misread numbers repaired."""
    out = list(firsts)
    numbers = [k for k, cell in enumerate(firsts) if cell is not None and _NUMBER.match(cell.text.strip())]
    above: tuple[int, ...] | None = None
    for k, cell in enumerate(firsts):
        text = cell.text.strip() if cell is not None else ""
        if not text:
            continue
        number = bool(_NUMBER.match(text))
        after = bisect.bisect_right(numbers, k)
        below = firsts[numbers[after]].text if after < len(numbers) else None
        if cell.confidence is not None and (number or _MISREAD.match(text)) and above and below \
                and _parts(text) not in _following(above):
            fits = [c for c in _following(above) if _parts(below) in _following(c)]
            if len(fits) == 1:
                out[k] = replace(cell, text=".".join(map(str, fits[0])), confidence=0.0)
                number = True
        elif cell.confidence is not None and number and "," in text:
            out[k] = replace(cell, text=text.replace(",", "."), confidence=0.0)
        # a row named otherwise ('II', 'A') may start the numbering again
        above = _parts(out[k].text) if number else None
    return out


def _parts(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in _PARTS.findall(text))


def _following(number: tuple[int, ...]) -> set[tuple[int, ...]]:
    """The numbers that may follow ``number``: its first child, the next at its level or one above."""
    return {(*number, 1), *((*number[:k], number[k] + 1) for k in range(len(number)))}
