"""Hostile variants of a plan text, and the invariant every variant must keep.

The mutator is seeded and deterministic: ``variants(text, seed, n)`` yields the
same ``n`` texts for the same seed, so a failing case is reproduced by its seed
and index. Each mutation mimics something seen in real copies of plans (lines
lost, doubled or swapped by a copy-paste, table pipes lost or added, numbers
mangled) or something an attacker would try (huge numbers, year 0, random
Unicode, truncation, very long lines). The outcome of one variant is classified
by ``outcome``: a package, a located error (``FILE:LINE`` inside the file), or a
failure of the invariant (an unlocated error, a line outside the file, an
exception other than ``KehoachError``).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kehoach.audit.runner import run_audit
from kehoach.core.errors import KehoachError
from kehoach.parse.corpus import parse_sources
from kehoach.read.sources import read_source

# Every variant stays under this many characters (the "bounded input" invariant).
MAX_CHARS = 400_000

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Replacements for a number: each one broke an earlier parser somewhere.
_HOSTILE_NUMBERS = (
    "0", "0000", "00/0000", "12/0000", "Quý IV/0000", "0000-0000", "31/02/2024", "13/2024", "99/99/9999",
    "9" * 21, "9" * 29, "9" * 40, "1" * 5000, "9223372036854775808", "1,0000001", "1.000.000.000.000.000.000",
    "-5", "1e400", "NaN", "∞", "١٢٣", "1 000", "٫", "0,000000001",
)
_UNICODE = ("\u0301", "\u200b", "\ufeff", "\u202e", "Ω", "𝟙𝟚", "ǅ", "İ", "ß", "\u00a0", "Đ", "\u2028", "|", "/", ":")


@dataclass(frozen=True)
class Variant:
    seed: int
    index: int
    mutations: tuple[str, ...]
    text: str


def _lines(text: str) -> list[str]:
    return text.split("\n")


def delete_lines(rng: random.Random, lines: list[str]) -> list[str]:
    start = rng.randrange(len(lines))
    return lines[:start] + lines[start + rng.choice((1, 1, 2, 5)):]


def duplicate_lines(rng: random.Random, lines: list[str]) -> list[str]:
    start = rng.randrange(len(lines))
    block = lines[start:start + rng.choice((1, 1, 3))]
    return lines[:start] + block + lines[start:]


def swap_lines(rng: random.Random, lines: list[str]) -> list[str]:
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines = list(lines)
    lines[i], lines[j] = lines[j], lines[i]
    return lines


def _edit_line(rng: random.Random, lines: list[str], edit: Callable[[str], str], wanted: str = "") -> list[str]:
    """Apply ``edit`` to a random line (one containing ``wanted`` when there is one)."""
    candidates = [i for i, x in enumerate(lines) if wanted in x] or list(range(len(lines)))
    i = rng.choice(candidates)
    return [*lines[:i], edit(lines[i]), *lines[i + 1:]]


def remove_pipe(rng: random.Random, lines: list[str]) -> list[str]:
    def edit(line: str) -> str:
        spots = [m.start() for m in re.finditer(r"\|", line)]
        if not spots:
            return line
        at = rng.choice(spots)
        return line[:at] + line[at + 1:]
    return _edit_line(rng, lines, edit, "|")


def add_pipe(rng: random.Random, lines: list[str]) -> list[str]:
    def edit(line: str) -> str:
        at = rng.randrange(len(line) + 1)
        return line[:at] + " | " + line[at:]
    return _edit_line(rng, lines, edit, rng.choice(("|", "")))


def garble_number(rng: random.Random, lines: list[str]) -> list[str]:
    def edit(line: str) -> str:
        spots = list(_NUMBER.finditer(line))
        if not spots:
            return line
        m = rng.choice(spots)
        return line[:m.start()] + rng.choice(_HOSTILE_NUMBERS) + line[m.end():]
    return _edit_line(rng, lines, edit, rng.choice(("|", "Năm", "/", "")))


def random_unicode(rng: random.Random, lines: list[str]) -> list[str]:
    def edit(line: str) -> str:
        at = rng.randrange(len(line) + 1)
        char = rng.choice(_UNICODE) if rng.random() < 0.7 else chr(rng.randrange(0x20, 0x2FFFF))
        if 0xD800 <= ord(char[0]) <= 0xDFFF:  # surrogates cannot be written as UTF-8
            char = "?"
        return line[:at] + char + line[at:]
    return _edit_line(rng, lines, edit)


def truncate(rng: random.Random, lines: list[str]) -> list[str]:
    return lines[:rng.randrange(len(lines) + 1)]


def long_line(rng: random.Random, lines: list[str]) -> list[str]:
    """One line repeated into a very long one (many citations, pipes, numbers)."""
    def edit(line: str) -> str:
        return (line + " ") * rng.choice((50, 200, 1000))
    return _edit_line(rng, lines, edit, rng.choice(("/", "|", "")))


def many_lines(rng: random.Random, lines: list[str]) -> list[str]:
    """A block of lines repeated many times (long lists, many headings)."""
    start = rng.randrange(len(lines))
    block = lines[start:start + rng.choice((1, 2, 4))]
    return lines[:start] + block * rng.choice((100, 1000, 5000)) + lines[start:]


MUTATIONS: dict[str, Callable[[random.Random, list[str]], list[str]]] = {
    f.__name__: f for f in (delete_lines, duplicate_lines, swap_lines, remove_pipe, add_pipe, garble_number,
                            random_unicode, truncate, long_line, many_lines)
}
# The cheap mutations are drawn more often: most bugs hide in details.
_WEIGHTS = {"delete_lines": 4, "duplicate_lines": 4, "swap_lines": 3, "remove_pipe": 3, "add_pipe": 3,
            "garble_number": 8, "random_unicode": 4, "truncate": 1, "long_line": 1, "many_lines": 1}


def mutate(text: str, rng: random.Random, count: int) -> tuple[tuple[str, ...], str]:
    """Apply ``count`` random mutations; return their names and the text."""
    lines, names = _lines(text), []
    for _ in range(count):
        if not lines:
            break
        name = rng.choices(list(_WEIGHTS), weights=list(_WEIGHTS.values()))[0]
        lines = MUTATIONS[name](rng, lines)
        names.append(name)
    return tuple(names), "\n".join(lines)[:MAX_CHARS]


def variants(text: str, seed: int, n: int) -> Iterator[Variant]:
    """``n`` hostile variants of ``text``, the same ones for the same ``seed``."""
    for index in range(n):
        rng = random.Random(f"{seed}:{index}")
        names, mutated = mutate(text, rng, rng.choice((1, 1, 2, 3)))
        yield Variant(seed, index, names, mutated)


@dataclass(frozen=True)
class Outcome:
    kind: str  # "package", "located", or a broken invariant: "unlocated", "outside", "crash"
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.kind in ("package", "located")


def outcome(text: str, path: Path) -> Outcome:
    """Read, parse and audit ``text`` written at ``path``; classify the result."""
    path.write_text(text, encoding="utf-8")
    try:
        sources = [read_source(path)]
        run_audit(parse_sources(sources))
    except KehoachError as exc:
        return classify_error(exc, path, len(text.split("\n")))
    except Exception as exc:  # the invariant: nothing but KehoachError escapes
        return Outcome("crash", f"{type(exc).__name__}: {str(exc)[:200]}")
    return Outcome("package")


def classify_error(exc: KehoachError, path: Path, line_count: int) -> Outcome:
    """A located error names the file and a line inside it."""
    if exc.path != str(path) or exc.line is None:
        return Outcome("unlocated", str(exc)[:300])
    if not 1 <= exc.line <= line_count:
        return Outcome("outside", str(exc)[:300])
    return Outcome("located", str(exc)[:300])
