"""Documents known by name ('Luật Giao dịch điện tử'), found in a line by one scan for all names.

A name matches as the pattern ``(?<!\\w)w1\\s+w2…\\s+wk(?!\\w)`` would with
``re.IGNORECASE``: its first word ends a whitespace-separated token (at a start
no word character precedes), its middle words are whole tokens, its last word
begins one (and no word character follows it). A related-documents list can
name tens of thousands of laws: a pattern compiled for each cost a millisecond
apiece, and trying each on every line that held one was quadratic. Here the
names are words in a tree keyed by their ``caseless`` form (which every
character ``re.IGNORECASE`` matches to a letter shares: tests/parse/test_caseless.py),
walked from each token; a candidate is then checked word by word as
``re.IGNORECASE`` compares characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from kehoach.core.text import caseless

_TOKEN = re.compile(r"\S+")


def _is_word(char: str) -> bool:
    """What ``\\w`` matches in a str pattern (``str.isalnum`` is the same test of the character)."""
    return char.isalnum() or char == "_"


@lru_cache(maxsize=4096)
def _same_letter(a: str, b: str) -> bool:
    """Whether ``re.IGNORECASE`` matches character ``a`` to ``b`` (a few pairs of letters per text)."""
    return re.fullmatch(re.escape(a), b, re.IGNORECASE) is not None


def _same(word: str, text: str) -> bool:
    return word == text or (len(word) == len(text) and all(x == y or _same_letter(x, y)
                                                              for x, y in zip(word, text, strict=True)))


@dataclass
class _Node:
    next: dict[str, _Node] = field(default_factory=dict)  # caseless middle word -> node
    last: dict[str, list[int]] = field(default_factory=dict)  # caseless last word -> names ending so


class NameIndex:
    """Names (each a list of at least two words, in the order given) found in lines."""

    def __init__(self, names: list[list[str]]) -> None:
        self.names = names
        self._first: dict[str, _Node] = {}
        self._first_lengths: set[int] = set()
        self._last_lengths: set[int] = set()
        for k, words in enumerate(names):
            node = self._first.setdefault(caseless(words[0]), _Node())
            for word in words[1:-1]:
                node = node.next.setdefault(caseless(word), _Node())
            node.last.setdefault(caseless(words[-1]), []).append(k)
            self._first_lengths.add(len(words[0]))
            self._last_lengths.add(len(words[-1]))

    def matches(self, text: str) -> list[tuple[int, int, int]]:
        """(name, start, end) of each place a name matches in ``text``: the names in their order, each's
        places from the left, none overlapping another of the same name (as a pattern's ``finditer``)."""
        by_name: dict[int, list[tuple[int, int]]] = {}
        for k, start, end in self._candidates(text):
            by_name.setdefault(k, []).append((start, end))
        found = []
        for k in sorted(by_name):
            after = 0
            for start, end in sorted(by_name[k]):
                if start >= after:
                    found.append((k, start, end))
                    after = end
        return found

    def _candidates(self, text: str) -> list[tuple[int, int, int]]:
        if not self.names:
            return []
        tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        found = []
        for i, (start, end) in enumerate(tokens[:-1]):
            for length in self._first_lengths:
                at = end - length
                if at < start or (at > start and _is_word(text[at - 1])):
                    continue
                node = self._first.get(caseless(text[at:end]))
                if node is not None:
                    found += self._walk(text, tokens, i + 1, at, node)
        return found

    def _walk(self, text: str, tokens: list[tuple[int, int]], j: int, at: int, node: _Node | None):
        """The names whose first word is at ``at`` and whose other words follow from token ``j`` on."""
        found = []
        words = 1
        while node is not None and j < len(tokens):
            start, end = tokens[j]
            for length in self._last_lengths:
                stop = start + length
                if stop > end or (stop < end and _is_word(text[stop])):
                    continue
                for k in node.last.get(caseless(text[start:stop]), ()):
                    if self._verified(text, tokens, k, at, j, stop, words):
                        found.append((k, at, stop))
            node = node.next.get(caseless(text[start:end]))
            words += 1
            j += 1
        return found

    def _verified(self, text: str, tokens: list[tuple[int, int]], k: int, at: int, j: int, stop: int,
                  words: int) -> bool:
        """Whether name ``k`` (its words keyed alike) matches from ``at`` to ``stop`` as ``re.IGNORECASE`` would."""
        name = self.names[k]
        if len(name) != words + 1:
            return False
        first = j - words
        pieces = [text[at:tokens[first][1]], *(text[s:e] for s, e in tokens[first + 1:j]), text[tokens[j][0]:stop]]
        return all(_same(w, p) for w, p in zip(name, pieces, strict=True))
