"""Figures stated in the assessment (Part I) -> ``indicators``.

What counts as a figure (the rules are the schema's description too):

- a number followed by a unit from ``reference/indicator_units.csv``
  ('hơn 1.000 lượt người', '05 trạm BTS', '85%', '148 tỷ đồng', '34 bậc'),
  a fraction ('23.086/23.086 cán bộ', '6/6 cơ sở') or a rank ('xếp hạng 11/63',
  told apart from a fraction by the word before it), or a bare number that a
  linking word ties to a subject ('… trực tuyến là 13.927');
- never a date ('06/12/2023', 'tháng 8/2023'), a year or anything named by
  a number ('năm 2023', 'thứ 5', 'mô hình 4 lớp', 'Đề án 06': the word before
  is a designator), a document number, a web address, a footnote marker, a
  number glued to letters ('5G', '2D', 'IPv6') or 'one of' ('01 trong 21').

Qualifiers ('trên', 'hơn', 'khoảng', 'gần', 'đạt', 'tăng' …) are the words
right before the number. The subject is read from the sentence only where
its shape makes it clear: the clause before a linking word or starting with
a subject word ('Tỷ lệ … đạt 85%', 'Nguồn chi thường xuyên: 148 tỷ đồng',
'thanh toán trực tuyến, xếp hạng 15/63'), else the noun phrase after the
unit ('05 trạm BTS công nghệ 5G'); otherwise it is left empty.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache

from kehoach.core.errors import KehoachError
from kehoach.core.model import TableBuilder
from kehoach.core.text import clean
from kehoach.core.vocabularies import vocabulary
from kehoach.parse.narrative.figure_text import (
    SPACES,
    FigureText,
    clause_start,
    ends_with_word,
    last_parts,
    rstripped_end,
    starts_with_word,
)
from kehoach.parse.narrative.outline import Outline, Unit
from kehoach.parse.values import check_amount, parse_number, to_million, unit_factor

_NUMBER = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?"
_FIGURE = re.compile(rf"(?<![\w.,/])({_NUMBER})(?:\s*/\s*({_NUMBER}))?(?![\w/]|[.,]\d)")
_NEXT_NUMBER = re.compile(r"\s*\S+\s+\d")  # '01 trong 21': a word, then a number
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[^\s\d])")
_CLAUSE_END = re.compile(r"[;.(](?:\s|$)|[“”\"()]|$")
# A subject longer than this is a clause, not 'a short phrase'.
_MAX_SUBJECT_WORDS = 20
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class UnitTerm:
    term: str
    unit: str
    kind: str


@cache
def _units() -> tuple[UnitTerm, ...]:
    rows = [UnitTerm(clean(r["term"]).casefold(), r["unit"], r["kind"]) for r in vocabulary("indicator_units")]
    return tuple(sorted(rows, key=lambda r: -len(r.term)))


@cache
def _words(role: str) -> tuple[str, ...]:
    terms = {clean(r["term"]).casefold() for r in vocabulary("indicator_words") if r["role"] == role}
    return tuple(sorted(terms, key=len, reverse=True))


@cache
def _qualifiers() -> dict[str, str]:
    return {clean(r["term"]).casefold(): r["value"] for r in vocabulary("indicator_words") if r["role"] == "qualifier"}


@cache
def _designators() -> tuple[str, ...]:
    # A number right after a document type is a short reference ('Chỉ thị 05'), not a figure.
    doc_types = {clean(r["name_vi"]).casefold() for r in vocabulary("doc_types")}
    return tuple(sorted(set(_words("designator")) | doc_types, key=len, reverse=True))


@dataclass(frozen=True)
class Figure:
    start: int
    value: Decimal
    value_text: str
    denominator: Decimal | None
    kind: str
    unit: str | None
    unit_text: str | None
    qualifier: str | None
    qualifier_text: str | None
    subject: str | None


def read_indicators(path: str, outline: Outline, out: dict[str, TableBuilder], plan_id: str) -> None:
    for part in outline.with_role("assessment"):
        for unit in outline.units_under(part):
            try:  # reading a figure and storing it both fail on the unit's line
                for position, fig in enumerate(figures(unit.text), start=1):
                    _add(out["indicators"], plan_id, unit, position, fig)
            except KehoachError as exc:
                raise exc.located(path, unit.line) from None


def _add(builder: TableBuilder, plan_id: str, unit: Unit, position: int, fig: Figure) -> None:
    money = None
    check_amount(fig.value, "figure")
    check_amount(fig.denominator, "figure")
    if fig.kind == "money" and fig.unit_text:
        money = to_million(fig.value, unit_factor(fig.unit_text))  # a money unit must be in reference/units.csv too
    builder.add(
        plan_id=plan_id, source_line=unit.line, position=position, section_id=unit.section.section_id,
        pillar=unit.section.pillar, value=fig.value, value_text=fig.value_text, denominator=fig.denominator,
        kind=fig.kind, unit=fig.unit, unit_text=fig.unit_text, qualifier=fig.qualifier,
        qualifier_text=fig.qualifier_text, amount_million_vnd=money, subject=fig.subject,
        sentence=sentence_at(unit.text, fig.start),
    )


def figures(text: str) -> list[Figure]:
    line = FigureText(text)
    return [fig for m in _FIGURE.finditer(line.masked) if (fig := _figure(line, m))]


@cache
def _reach(kind: str) -> int:
    """How many characters the longest word of ``kind`` takes: how far a figure reads for one."""
    words = {"designator": _designators(), "not_before": _words("not_before"), "stop": _words("stop"),
             "unit": tuple(t.term for t in _units()),
             "lead": (*_words("rank"), *_qualifiers(), *_words("linker"))}[kind]
    return max(map(len, words), default=0)


@cache
def _filler_words() -> frozenset[str]:
    return frozenset(w for f in _words("filler") for w in f.split())


def _figure(line: FigureText, m: re.Match[str]) -> Figure | None:
    masked = line.masked
    if ends_with_word(line.tail(m.start(), _reach("designator")), _designators()):
        return None
    not_before = _words("not_before")
    if starts_with_word(line.head(m.end(), _reach("not_before")), not_before) and _NEXT_NUMBER.match(masked, m.end()):
        return None
    value = parse_number(m[1])
    denominator = parse_number(m[2]) if m[2] else None
    term = _unit_after(line.head(m.end(), _reach("unit")))
    lead = _lead(line, m.start())
    if term is None and denominator is None and not lead.linked:
        return None  # a bare number with nothing saying what it counts
    if denominator is not None and value > denominator:
        return None  # '24/7' is no share and no place
    kind = term.kind if term else "count"
    if denominator is not None:
        kind = "rank" if lead.rank else "fraction"
    # the unit as written: after the spaces, as long as the term (the folded term matched it)
    after = masked[m.end(): SPACES.match(masked, m.end()).end() + len(term.term) + 1] if term else ""
    unit_end = m.end() + (_unit_span(after, term) if term else 0)
    subject = _subject_before(line, lead) or _subject_after(line.text, m.end(), unit_end, term)
    return Figure(
        start=m.start(), value=value, value_text=m[0].replace(" ", ""), denominator=denominator,
        kind=kind, unit=term.unit if term else None, unit_text=_as_written(after, term) if term else None,
        qualifier=_qualifiers()[lead.qualifiers[-1]] if lead.qualifiers else None,
        qualifier_text=" ".join(lead.qualifiers) or None, subject=subject,
    )


# -- what follows the number ------------------------------------------------------------

@cache
def _unit_pattern() -> re.Pattern[str]:
    """Every unit term as one alternation, in ``_units()`` order (the first that
    fits wins, as trying them one by one would): '%' right after the number or
    one space away, a word after spaces and not inside a longer word."""
    return re.compile("|".join(
        rf"\s?(?P<u{i}>%)" if term.term == "%" else rf"\s+(?P<u{i}>{re.escape(term.term)})(?!\w)"
        for i, term in enumerate(_units())) or "(?!)")


def _unit_after(folded_after: str) -> UnitTerm | None:
    """The unit term right after a number, in the casefolded text after it."""
    m = _unit_pattern().match(folded_after)
    return _units()[int(m.lastgroup[1:])] if m else None


def _unit_span(after: str, term: UnitTerm) -> int:
    if term.term == "%":
        return after.index("%") + 1
    m = _spaced(term.term).match(after)
    return m.end() if m else 0


@cache
def _spaced(term: str) -> re.Pattern[str]:
    """``term`` after spaces, in any case."""
    return re.compile(rf"\s+{re.escape(term)}", re.IGNORECASE)


def _as_written(after: str, term: UnitTerm) -> str:
    return after[: _unit_span(after, term)].strip()


# -- what precedes the number --------------------------------------------------------

@dataclass(frozen=True)
class Lead:
    """The words between a figure and what it is about: 'đạt trên', 'là', ':', 'xếp hạng'."""

    end: int  # where the text before them ends
    qualifiers: list[str]
    linked: bool  # a linking word ties the figure to the clause before it
    rank: bool


def _lead(line: FigureText, end: int) -> Lead:
    """The words before the figure at ``end``, read back from it one at a time."""
    qualifiers: list[str] = []
    linked = rank = False
    while True:
        stripped = rstripped_end(line.masked, end)
        low = line.tail(stripped, _reach("lead"))
        if low.endswith(":"):
            end, linked = stripped - 1, True
            continue
        word = ends_with_word(low, _words("rank"))
        if word:
            rank = linked = True
        else:
            word = ends_with_word(low, tuple(_qualifiers()))
            if word:
                qualifiers.insert(0, word)
            word = word or ends_with_word(low, _words("linker"))
            if not word:
                break
            linked = linked or word in _words("linker")
        end = stripped - len(word)
    return Lead(end, qualifiers, linked, rank)


def _more_words_than_a_subject(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` holds more than ``_MAX_SUBJECT_WORDS`` words that are no filler:
    then no trimming of fillers makes it a subject. Read from its end, only as far as needed."""
    fillers = _filler_words()
    size = 256
    while True:
        low = max(start, end - size)
        words = text[low:end].split()
        if low > start and words and not text[low - 1].isspace() and not text[low].isspace():
            words = words[1:]  # cut inside a word
        if sum(w.casefold() not in fillers for w in words) > _MAX_SUBJECT_WORDS:
            return True
        if low == start:
            return False
        size *= 2


def _subject_before(line: FigureText, lead: Lead) -> str | None:
    """'Tỷ lệ … đạt 85%' -> 'Tỷ lệ …'; 'chỉ tiêu X, xếp hạng 11/63' -> 'chỉ tiêu X'."""
    text = line.text
    parts = last_parts(line, clause_start(line, lead.end), lead.end)
    if _more_words_than_a_subject(text, *parts[0]):
        return None
    subject = _trim_fillers(text[slice(*parts[0])].strip())
    if not subject and lead.rank and len(parts) > 1:
        if _more_words_than_a_subject(text, *parts[1]):
            return None
        subject = _trim_fillers(text[slice(*parts[1])].strip())  # '…, thanh toán trực tuyến, xếp hạng 15/63'
    if not subject or len(subject.split()) > _MAX_SUBJECT_WORDS:
        return None
    if ends_with_word(subject.casefold(), _words("stop")):
        return None  # 'của hơn 1.000 …': the clause goes on, it does not name the figure
    head = starts_with_word(subject.casefold(), _words("subject_head"))
    return subject if lead.linked or head else None


def _trim_fillers(text: str) -> str:
    text = text.strip()
    changed = True
    while changed and text:
        changed = False
        for w in _words("filler"):
            if text.casefold().startswith(w + " ") or text.casefold() == w:
                text, changed = text[len(w):].strip(" ,"), True
            elif text.casefold().endswith(" " + w):
                text, changed = text[: -len(w)].strip(" ,"), True
    return text


def _subject_after(text: str, unit_start: int, unit_end: int, term: UnitTerm | None) -> str | None:
    """'05 trạm BTS công nghệ 5G.' -> 'trạm BTS công nghệ 5G' (only when it says more than the unit)."""
    head = text[unit_start:unit_end].strip() if term and term.term != "%" else ""
    rest = text[unit_end: _subject_window_end(text, unit_end)]
    stop = _CLAUSE_END.search(rest)
    rest = rest[: stop.start()] if stop else rest
    number = re.search(r"\s\d[\d.,/]*(?!\w)", rest)  # the next figure starts another phrase
    if number:
        rest = rest[: number.start()]
    end, count = 0, 0
    for w in _WORD.finditer(rest):
        if starts_with_word(rest[w.start():].casefold(), _words("stop")) or count >= _MAX_SUBJECT_WORDS:
            break
        end, count = w.end(), count + 1
    tail = re.sub(r"\s+(và|hoặc)$", "", rest[:end].rstrip(" ,;:."))
    if not tail.strip(" ,;:."):
        return None
    return clean(f"{head}{tail}") if head else clean(tail.lstrip(" ,;:"))


def _subject_window_end(text: str, start: int) -> int:
    """Where to stop reading for a subject after ``start``: words past the last one a subject may
    take change nothing, so the text is read as far as the start of that word and a stop word after
    it (a clause end or a number found there falls after the subject's words too)."""
    for count, word in enumerate(_WORD.finditer(text, start)):
        if count == _MAX_SUBJECT_WORDS:
            return word.start() + _reach("stop") + 2
    return len(text)


def sentence_at(text: str, offset: int) -> str:
    """The sentence of ``text`` that holds ``offset``."""
    starts, ends = _sentence_ends(text)
    i = bisect.bisect_left(starts, offset)  # the first sentence end at or after the offset
    start = ends[i - 1] if i else 0
    return (text[start: starts[i]] if i < len(starts) else text[start:]).strip()


@lru_cache(maxsize=8)  # a paragraph's figures share its sentence ends (str caches its hash)
def _sentence_ends(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    found = list(_SENTENCE_END.finditer(text))
    return tuple(m.start() for m in found), tuple(m.end() for m in found)
