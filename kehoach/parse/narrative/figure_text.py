"""One text as the figures in it are read (``kehoach.parse.narrative.indicators``): masked, folded,
with the positions of its clause marks and separators found once.

Each figure then reads a few words on each side of it, never the text before or after it whole: a
paragraph of thousands of figures was read once per figure (copied, folded, scanned back to the
start of its clause), which made it quadratic.
"""

from __future__ import annotations

import bisect
import re

from kehoach.core.text import holds_any
from kehoach.parse.legal_documents import number_matches

# Each with a text every match holds: the pattern is tried only on a text holding it.
_MASKS = (
    (("http", "www."), re.compile(r"https?://\S+|www\.\S+")),
    (("[",), re.compile(r"\[\d+\]")),  # footnote markers
    (("/",), re.compile(r"(?<![\d/])\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4}(?![\d/])")),  # dates
    (("/",), re.compile(r"(?<![\d/.,])\d{1,2}\s*/\s*\d{4}(?![\d/])")),  # months
)
CLAUSE_MARKS = ";.(“”\""
SEPARATOR = re.compile(r"[,:]")  # of the parts of a clause
SPACES = re.compile(r"\s*")


class FigureText:
    """A text with what every figure in it looks up, made once."""

    def __init__(self, text: str):
        self.text = text
        self.masked = mask(text)
        folded = self.masked.casefold()
        # where casefold maps each character to one, its slices are the folded slices of ``masked``
        self._folded = folded if len(folded) == len(self.masked) else None
        self.clause_marks = [i for i, c in enumerate(self.masked) if c in CLAUSE_MARKS]
        self.separators = [m.start() for m in SEPARATOR.finditer(text)]

    def folded(self, start: int, end: int) -> str:
        """``masked[start:end]`` casefolded (casefold works character by character)."""
        start, end = max(start, 0), min(end, len(self.masked))
        return self._folded[start:end] if self._folded is not None else self.masked[start:end].casefold()

    def tail(self, end: int, longest: int) -> str:
        """The folded text before ``end``, its trailing spaces dropped, enough of it for a word of
        ``longest`` characters and the one before it: what ``ends_with_word`` reads."""
        stripped = rstripped_end(self.masked, end)
        return self.folded(stripped - longest - 1, stripped)

    def head(self, start: int, longest: int) -> str:
        """The folded text from ``start``, its leading spaces and enough after them for a word of
        ``longest`` characters and the one after it: what ``starts_with_word`` reads."""
        return self.folded(start, SPACES.match(self.masked, start).end() + longest + 1)


def rstripped_end(text: str, end: int) -> int:
    """``len(text[:end].rstrip())``, reading only the spaces before ``end``."""
    while True:
        low = max(0, end - 64)
        kept = text[low:end].rstrip()
        if kept or not low:
            return low + len(kept)
        end = low


def mask(text: str) -> str:
    """Blank out what only looks like a number (dates, document numbers, addresses), keeping offsets."""
    spans = sorted([m.span() for needs, pattern in _MASKS if holds_any(text, needs)
                    for m in pattern.finditer(text)]
                   + [m.span() for m in number_matches(text)])
    pieces, at = [], 0
    for start, end in spans:  # overlapping spans blank the union of their characters
        if end > at:
            pieces += (text[at:max(start, at)], " " * (end - max(start, at)))
            at = end
    pieces.append(text[at:])
    return "".join(pieces)


def ends_with_word(text: str, words: tuple[str, ...]) -> str | None:
    """The first of ``words`` that ``text`` ends with (trailing spaces aside) as a whole word."""
    stripped = text.rstrip()
    if not stripped.endswith(words):  # one test in C for the usual case: none of them
        return None
    for w in words:
        if stripped.endswith(w) and (len(stripped) == len(w) or not stripped[-len(w) - 1].isalnum()):
            return w
    return None


def starts_with_word(text: str, words: tuple[str, ...]) -> str | None:
    """The first of ``words`` that ``text`` starts with (leading spaces aside) as a whole word."""
    stripped = text.lstrip()
    if not stripped.startswith(words):
        return None
    for w in words:
        if stripped.startswith(w) and (len(stripped) == len(w) or not stripped[len(w)].isalnum()):
            return w
    return None


def clause_start(line: FigureText, end: int) -> int:
    """Where the clause ending at ``end`` starts: after its last ';', '.', '(' or quote and the
    spaces after it (the marks' positions are found once for the whole text)."""
    i = bisect.bisect_left(line.clause_marks, end)
    if not i:
        return 0
    return SPACES.match(line.masked, line.clause_marks[i - 1] + 1, end).end()


def last_parts(line: FigureText, start: int, end: int) -> list[tuple[int, int]]:
    """The spans of the last two parts of ``text[start:end]`` split at ',' and ':' (its last part first)."""
    i = bisect.bisect_left(line.separators, end)
    cuts = [p for p in line.separators[max(0, i - 2): i] if p >= start]
    bounds = [start, *(p + 1 for p in cuts)]
    ends = [*cuts, end]
    return list(zip(bounds, ends, strict=True))[::-1]
