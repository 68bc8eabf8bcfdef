"""Text normalisation shared by every parser.

Three different normal forms are used on purpose:
- ``clean``: what we store (NFC, single spaces, trimmed), close to the source;
- ``key``: what we compare vocabulary on (case-folded, punctuation spacing
  removed), never stored;
- ``slug``: ASCII identifiers for ids and file names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

# Spacing around joiners varies by typist: "LĐ- TB&XH", "NN &PTNT", "QĐ- BTTTT".
_JOINERS = "&/-–."
_KEY_DROP = str.maketrans({c: " " for c in ",;:()\"“”'‘’"})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def clean(text: str | None) -> str:
    """NFC, whitespace (including no-break spaces) collapsed, trimmed."""
    if text is None:
        return ""
    # Most texts given are clean once trimmed (cells, lines, names): checked by two scans in C,
    # not split into words and joined again. ``strip`` drops what ``split`` splits on, and every
    # such space but ' ' is a control or separator character, which ``isprintable`` refuses.
    text = nfc(text).strip()
    if text.isprintable() and "  " not in text:
        return text
    # str.split() splits on runs of what ``\s`` matches (no-break spaces included) and drops
    # them at both ends: the same as collapsing with a regex and trimming, at a fraction of the cost.
    return " ".join(text.split())


def key(text: str) -> str:
    """Comparison key for vocabulary lookups (agencies, headers, units)."""
    # Punctuation dropped, spaces collapsed, then the (single) spaces beside a joiner removed:
    # the same key as removing whole runs around joiners first, without a regex tried at every character.
    k = " ".join(clean(text).casefold().translate(_KEY_DROP).split())
    for joiner in _JOINERS:
        if joiner in k:
            k = k.replace(" " + joiner, joiner).replace(joiner + " ", joiner)
    return k.replace("–", "-").strip(" .")


def caseless(text: str) -> str:
    """``text`` folded so that a word ``re.IGNORECASE`` finds in it is found in
    it by ``in`` as ``caseless(word)``: a cheap test of a line before an
    IGNORECASE alternation of many words, which ``re`` tries at every position."""
    # 'ı' and 'İ' are the letters ``re.IGNORECASE`` matches to 'i' that ``casefold`` does not fold
    # to 'i' (``str.replace`` twice costs a tenth of one ``str.translate``)
    return text.replace("ı", "i").replace("İ", "i").casefold()


def holds_any(text: str, words: Iterable[str]) -> bool:
    """Whether one of ``words`` is in ``text``: the cheap test that decides whether a slower
    pattern is tried on it."""
    return any(w in text for w in words)


def lines_holding(lines: Sequence[str], words: Iterable[str]) -> list[int]:
    """The indexes (sorted) of the ``lines`` that hold one of ``words`` (none holding a line break).

    The joined text is searched for each word, jumping to the next line at each line found:
    a test of each line in Python cost more than the rest of a reader's work on a text of
    millions of short lines, most holding none of the words."""
    joined = "\n".join(lines)
    found: set[int] = set()
    for word in words:
        line, counted = 0, 0  # the line index at position ``counted`` of ``joined``
        at = joined.find(word)
        while at >= 0:
            line += joined.count("\n", counted, at)
            found.add(line)
            counted = joined.find("\n", at)
            if counted < 0:
                break
            at = joined.find(word, counted)
    return sorted(found)


def fold(text: str) -> str:
    """ASCII transliteration of Vietnamese: 'Quảng Ngãi' -> 'Quang Ngai'."""
    text = clean(text).replace("Đ", "D").replace("đ", "d")
    if text.isascii():  # nothing to decompose ('219/KH-UBND', a document number once 'Đ' is 'D')
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def slug(text: str, max_length: int = 100) -> str:
    """Lower-case ASCII slug with '-' separators: '219/KH-UBND' -> '219-kh-ubnd'."""
    return slug_of_folded(fold(text), max_length)


def slug_of_folded(folded: str, max_length: int = 100) -> str:
    """``slug`` of a text ``fold`` already leaves as it is (a caller that knows it skips the fold)."""
    s = _NOT_SLUG.sub("-", folded.lower()).strip("-")
    return s[:max_length].rstrip("-")
