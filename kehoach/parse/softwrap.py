"""Paragraphs and headings rebuilt from hard-wrapped lines.

Some sites wrap the text at a fixed width, so a sentence, a heading
('I. KẾT QUẢ' / 'ĐẠT ĐƯỢC') or a date ('ngày' / '21/3/2022') is cut over
several lines. Readers of the narrative match numbering and headings line by
line, so the body is rejoined first: a continuation line is appended (with a
space) to the line it continues, and left empty in its place, so every other
line keeps its number and each paragraph keeps the line it starts on.

A line continues the one above when that one is unfinished:

- after running text that does not end a sentence ('.', ';', ':', '!', '?'),
  any line that does not itself open a unit (a heading, a bullet, a footnote);
- after a heading, a line starting in lower case ('1. Về nhận' / 'thức số'),
  or a line in capitals under a heading in capitals ('I. KẾT QUẢ' / 'ĐẠT ĐƯỢC').

On a line OCR read, a section heading whose numeral OCR dropped ('. CĂN CỨ LẬP KẾ HOẠCH') opens a unit too
(``heading_roles.damaged_section``).

'Phần I' headings are left alone: their title lines are read with them.
"""

from __future__ import annotations

import re

from kehoach.core.text import clean
from kehoach.parse.heading_roles import damaged_section
from kehoach.parse.page_text import is_capitals

_PART = re.compile(r"^phần\s+([IVXLC]+|\d+)\b", re.IGNORECASE)
# Headings of the outline: 'II. …', '1. …', '1.2. …' (as flows.sections reads them).
_HEADING = re.compile(r"^(?:[IVXLC]+\s*[.)]\s|\d{1,2}(?:\.\d{1,2})+\.?\s+(?=[^\W\d_])|\d{1,2}[.)]\s+(?=[^\W\d_]))")
# Other openers of a unit: lettered items ('a) …', whole paragraphs), bullets, footnotes.
_OPENS_UNIT = re.compile(r"^(?:[a-zđ]\)\s|[-+•–*]\s|\[\d+\]|\(\d+\)\s)")
_SENTENCE_END = re.compile(r"[.;:!?…][\"”’)\]]*$")


def _opens_unit(text: str) -> bool:
    return bool(_HEADING.match(text) or _PART.match(text) or _OPENS_UNIT.match(text))


def continues(previous: str, line: str) -> bool:
    """Whether ``line`` continues ``previous`` (both cleaned, non-empty, not table lines)."""
    if _opens_unit(line) or _SENTENCE_END.search(previous):
        return False
    if _PART.match(previous):
        return line[:1].islower()
    if _HEADING.match(previous):
        return line[:1].islower() or (is_capitals(previous) and is_capitals(line))
    return True


def join_soft_wraps(lines: tuple[str, ...], start: int, stop: int,
                    ocr_lines: frozenset[int] = frozenset()) -> tuple[str, ...]:
    """``lines`` with the wrapped lines of ``lines[start:stop]`` joined onto the line they continue;
    ``ocr_lines`` (1-based): the lines OCR read."""
    out = list(lines)
    head: int | None = None  # index of the line being continued
    for n in range(start, stop):
        text = clean(out[n])
        if not text or "|" in text:
            head = None
            continue
        damaged_heading = n + 1 in ocr_lines and damaged_section(text) is not None
        if head is not None and not damaged_heading and continues(clean(out[head]), text):
            out[head] = f"{clean(out[head])} {text}"
            out[n] = ""
            continue
        head = n
    return tuple(out)


def join_continued(lines: tuple[str, ...], continued: list[int]) -> tuple[str, ...]:
    """``lines`` with each (1-based) line of ``continued`` appended to the one above and left empty.

    A cell wrapped over many lines: each line's text is kept as a piece of the line it joins, and the
    pieces joined once; a line left empty points to the line it joined, so the next one finds it without
    walking back over the run (both were quadratic in the length of the run)."""
    out = list(lines)
    pieces: dict[int, list[str]] = {}  # line index -> its text so far, in pieces
    joined_to: dict[int, int] = {}  # a line left empty -> the line its text was appended to
    for n in sorted(continued):
        head = n - 2
        while head > 0 and not (out[head] or head in pieces):  # a cell wrapped over several lines
            head = joined_to.get(head, head - 1)
        text = pieces.setdefault(head, [out[head]])
        _rstrip(text)
        text.append(f" {out[n - 1].strip()}")
        out[n - 1] = ""
        joined_to[n - 1] = head
    for head, text in pieces.items():
        out[head] = "".join(text)
    return tuple(out)


def _rstrip(pieces: list[str]) -> None:
    """The text of ``pieces`` (joined) without trailing whitespace, in place."""
    while pieces:
        last = pieces[-1].rstrip()
        if last:
            pieces[-1] = last
            return
        pieces.pop()
