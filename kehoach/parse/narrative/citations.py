"""References to other documents anywhere in the text -> ``citations``, ``legal_bases``.

Three shapes of reference are read, in this order:

1. by number ('Quyết định số 458/QĐ-TTg ngày 03/4/2020', 'số 02/KH-BCĐ',
   '2294/QĐ- BTTTT', '13-NQ/TU'), with the stated type before it and the
   date after it; ``kehoach.parse.legal_documents`` gives each document one id however it is
   written. The number's type code wins over the stated type ('Quyết định số
   189/KH-UBND' is a Kế hoạch); the stated type is kept in ``stated_type``.
2. by name, for documents known without a number (laws in the publisher's
   list or in the legal bases): 'Luật Ngân sách nhà nước'.
3. short ('Chỉ thị 05', 'Quyết định 17 của UBQG'): a type and a bare number,
   resolved only when exactly one cited document has that type and number;
   otherwise kept with no ``doc_id`` (``match = unresolved``).

A number written with its year inside ('01/2023/NQ-CP') that no other source
gives, while the plan cites the same number without the year and of that year
('01/NQ-CP ngày 06/01/2023'), is merged into it and marked
``match = number_variant``. The plan's own number is not a citation.
"""

from __future__ import annotations

import bisect
import logging
import re
from dataclasses import dataclass
from datetime import date
from functools import cache

from kehoach.core.errors import KehoachError
from kehoach.core.model import TableBuilder
from kehoach.core.text import caseless, clean, lines_holding
from kehoach.core.vocabularies import vocabulary
from kehoach.parse.heading_roles import opener
from kehoach.parse.layout import PlanDocument
from kehoach.parse.legal_documents import (
    DocRef,
    date_after,
    date_match_after,
    doc_type_at_start,
    make_ref,
    normalize_number,
    number_matches,
    year_match_after,
)
from kehoach.parse.narrative.name_index import NameIndex
from kehoach.parse.narrative.number_index import by_plain_number, by_short_key, leading_number, plain_number
from kehoach.parse.narrative.outline import Outline
from kehoach.parse.state import ParseState
from kehoach.parse.values import find_long_date

log = logging.getLogger(__name__)

# A document's type and name before its number ('Luật Giao dịch điện tử số ') fit
# in this many characters; searching further back per number made long lines quadratic.
_LOOKBACK = 400
_TYPED_TEXT_END = re.compile(r"\s+(?:ngày|của|về|do|theo|tại|số)\s|[;,(]")
_SHORT_NUMBER = r"(\d{1,4})(?![\w/]|[.,]\d)"
_SO = re.compile("số", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_TRAILING_YEAR = re.compile(r"\s+\d{4}$")


@dataclass(slots=True)  # one per reference found
class Found:
    line: int
    start: int
    end: int
    text: str
    number_text: str | None
    stated_type: str | None
    issued: date | None
    doc_id: str | None
    match: str  # number, number_variant, name, short, unresolved


@cache
def _type_names() -> tuple[str, ...]:
    return tuple(sorted((clean(r["name_vi"]) for r in vocabulary("doc_types")), key=len, reverse=True))


@cache
def _longest_type() -> int:
    return max((len(t) for t in _type_names()), default=0)


@cache
def _type_before() -> re.Pattern[str]:
    types = "|".join(re.escape(t) for t in _type_names())
    return re.compile(rf"(?:(?<!\w)({types})\s+)?(?:số\s*[:.]?\s*)?$", re.IGNORECASE)


@cache
def _named_types() -> tuple[str, ...]:
    """Types whose documents are known by a name and issued by one body ('Luật', 'Bộ luật')."""
    rows = vocabulary("doc_types")
    return tuple(sorted((clean(r["name_vi"]) for r in rows if not r["code"] and r["default_issuer"]),
                        key=len, reverse=True))


@cache
def _name_before() -> re.Pattern[str]:
    """'Luật Giao dịch điện tử số ' right before '20/2023/QH15'."""
    types = "|".join(re.escape(t) for t in _named_types())
    return re.compile(rf"(?<!\w)(?:{types})(?:\s+[^\s;,()]+){{1,12}}?\s+số\s*[:.]?\s*$", re.IGNORECASE)


@cache
def _named_type_words() -> tuple[str, ...]:
    """The last word of each named type ('luật'): a name starts with its type, so holds it."""
    return tuple({caseless(t.split()[-1]) for t in _named_types()})


@cache
def _caseless_types() -> tuple[str, ...]:
    return tuple(caseless(t) for t in _type_names())


@cache
def _short_reference() -> re.Pattern[str]:
    types = "|".join(re.escape(t) for t in _type_names())
    return re.compile(rf"(?<!\w)({types})\s+(?:số\s+)?{_SHORT_NUMBER}", re.IGNORECASE)


def _canonical_type(text: str | None) -> str | None:
    found = doc_type_at_start(text) if text else None
    return found[0] if found else None


def read_citations(doc: PlanDocument, outline: Outline, out: dict[str, TableBuilder], state: ParseState) -> None:
    # Each kind of reference is looked for only on the lines holding what it must hold, found by a
    # scan of the whole body: a text of millions of short lines costs no call for each.
    body = doc.source.lines[doc.body_start - 1:]
    folded = caseless("\n".join(body)).split("\n")  # caseless per character: line for line the same

    def holding(lines: list[str], words: tuple[str, ...]) -> list[int]:
        return [doc.body_start + k for k in lines_holding(lines, words)]

    found = [f for n in holding(body, ("/",)) for f in _numbered(doc, state, n)]  # every number holds a '/'
    bases = _legal_bases(doc, outline, state, found)
    _merge_year_variants(found, state)
    state.documents.resolve_aliases()
    found += _named(doc, state, holding(folded, _named_type_words()), found)
    found += _short(doc, state, holding(folded, _caseless_types()), found)
    _emit(doc, outline, out, state, found, bases)


# -- by number ------------------------------------------------------------------------

def _numbered(doc: PlanDocument, state: ParseState, n: int) -> list[Found]:
    text = doc.source.line(n)
    found = []
    for m in number_matches(text):
        number = normalize_number(m[0])
        lookback = max(0, m.start() - _LOOKBACK)
        tail = _strip_tail(text[lookback:m.start()])
        before = _type_before().search(text, _type_search_start(lookback, tail), m.start())
        start = before.start() if before and before.group(0).strip() else m.start()
        stated = _canonical_type(before[1]) if before and before[1] else None
        name = None
        if stated is None and _SO.fullmatch(tail, len(tail) - 2) and (
                named := _name_before().search(text, lookback, m.start())):
            start, stated = named.start(), _canonical_type(named[0])
            name = clean(re.sub(r"\s+số\s*[:.]?\s*$", "", named[0], flags=re.IGNORECASE))
        end = m.end()
        try:
            issued = date_after(text, end)
        except KehoachError as exc:  # '… ngày 31/02/2024'
            raise exc.located(doc.path, n) from None
        year = None
        if issued:
            end = date_match_after(text, end).end()
        elif ym := year_match_after(text, end):
            year, end = int(ym[1]), ym.end()
        if _is_the_plan(doc, number, issued.year if issued else year):
            continue
        ref = make_ref(number, state.context, doc_type=stated, issued=issued, year=year)
        doc_id = state.documents.add(ref)
        if name:
            _join_named(state, doc_id, name)
        found.append(Found(n, start, end, clean(text[start:end]), clean(m[0]), stated, issued, doc_id, "number"))
    return found


def _strip_tail(before: str) -> str:
    """``before`` without its trailing run of spaces, ':' and '.' (where 'số' must end)."""
    while (stripped := before.rstrip().rstrip(":.")) != before:
        before = stripped
    return before


def _type_search_start(lookback: int, tail: str) -> int:
    """Where a search of ``_type_before`` can start: its match is '[type ]số[ :.]' or 'type ' right
    before the number, so it starts at most a type's length before the spaces ahead of a 'số'
    ending ``tail``. Searching from there finds the same match as searching the whole look-back,
    without trying each of its hundreds of positions."""
    head = tail[:-2].rstrip()  # as if 'số' ended the tail; otherwise this only starts earlier
    return max(lookback, lookback + len(head) - _longest_type())


def _join_named(state: ParseState, doc_id: str, name: str) -> None:
    """'Luật Giao dịch điện tử số 20/2023/QH15' is also the 'Luật Giao dịch điện tử 2023' known by name."""
    ref = state.documents.docs[doc_id]
    title = f"{name} {ref.year}" if ref.year else name
    named = make_ref(None, state.context, doc_type=ref.doc_type, year=ref.year, title=title)
    if named.doc_id in state.documents.docs:
        state.documents.merge(named.doc_id, doc_id)
    else:
        state.documents.add(named._replace(doc_id=doc_id, title=title))


def _is_the_plan(doc: PlanDocument, number: str, year: int | None) -> bool:
    h = doc.header
    return number.casefold() == h.number.casefold() and year in (None, h.issued_date.year)


def _merge_year_variants(found: list[Found], state: ParseState) -> None:
    """'01/2023/NQ-CP' (cited only so) -> '01/NQ-CP' of 2023 when the plan cites exactly that one."""
    related = {r["doc_id"] for r in state.plan_documents if r["relation"] == "related"}
    merged: set[str] = set()
    cited = list(dict.fromkeys(f.doc_id for f in found if f.doc_id and f.doc_id not in related))
    by_number = by_plain_number(state, {plain_number(state.documents.docs.get(doc_id)) for doc_id in cited})
    for doc_id in cited:
        ref = state.documents.docs.get(doc_id)
        plain = plain_number(ref)
        if plain is None:
            continue
        current = (state.documents.docs.get(d.doc_id) for d in by_number.get(plain, []))
        twins = [d for d in current if d and _same_scope(d, ref)]
        if len(twins) == 1:
            state.documents.merge(doc_id, twins[0].doc_id)
            merged.add(doc_id)
            log.info("%s read as %s (the same number without its year)", ref.number, twins[0].number)
    for f in found:
        if f.doc_id in merged:
            f.match = "number_variant"


def _same_scope(a: DocRef, b: DocRef) -> bool:
    return (a.issuer or "") == (b.issuer or "")


# -- the legal bases ----------------------------------------------------------------------

@dataclass(frozen=True)
class Basis:
    position: int
    line: int
    text: str
    section_id: str
    found: Found | None


def _legal_bases(doc: PlanDocument, outline: Outline, state: ParseState, found: list[Found]) -> list[Basis]:
    """Each unit of a 'Căn cứ' section (or opening with 'Căn cứ') names one document: its first reference."""
    units = [u for s in outline.with_role("legal_bases") for u in outline.units_under(s)]
    # 'Căn cứ Quyết định số …;' paragraphs outside a 'Căn cứ' section (often the preamble) are bases too.
    units += [u for s in outline.sections if not s.nearest("legal_bases") for u in s.units
              if opener(u.text, "legal_bases")]
    bases = []
    by_line: dict[int, list[Found]] = {}
    for f in found:
        by_line.setdefault(f.line, []).append(f)
    for unit in sorted(units, key=lambda u: u.line):
        on_line = sorted(by_line.get(unit.line, []), key=lambda f: f.start)
        first = on_line[0] if on_line else _by_name_only(doc, state, unit.line, found)
        if first is None:
            log.warning("%s:%s: legal basis names no document that could be read: %r",
                        doc.path, unit.line, unit.text[:80])
        bases.append(Basis(len(bases) + 1, unit.line, unit.text, unit.section.section_id, first))
    return bases


def _by_name_only(doc: PlanDocument, state: ParseState, line: int, found: list[Found]) -> Found | None:
    """'Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;' (a law has no number).

    The reference is registered and appended to ``found`` (it is a citation too)."""
    raw = doc.source.line(line)
    text = re.sub(r"^\s*[-+•–*]\s*", "", raw)
    if lead := opener(text, "legal_bases"):
        text = text[lead.end():]
    offset = len(raw) - len(text)
    doc_type = doc_type_at_start(text)
    if doc_type is None or doc_type[0] not in _named_types():
        return None  # only a law is identified by its name; 'Nghị quyết của Tỉnh ủy' names no document
    cut = _TYPED_TEXT_END.search(text)
    name = clean(text[: cut.start()] if cut else text).rstrip(" .;")
    try:
        issued = find_long_date(text) or date_after(text[cut.start():] if cut else "")
    except KehoachError as exc:
        raise exc.located(doc.path, line) from None
    title = f"{name} {issued.year}" if issued else name
    ref = make_ref(None, state.context, doc_type=doc_type[0], year=issued.year if issued else None,
                   issued=issued, title=title)
    f = Found(line, offset, offset + len(name), name, None, doc_type[0], issued, state.documents.add(ref), "name")
    found.append(f)
    return f


# -- by name and short -----------------------------------------------------------------------

def _named(doc: PlanDocument, state: ParseState, lines: list[int], found: list[Found]) -> list[Found]:
    """The names of documents known by name on ``lines`` (those whose caseless text holds a named type's
    last word, 'luật': a name starts with its type)."""
    refs = []
    for ref in state.documents.docs.values():
        if ref.doc_type in _named_types() and ref.title:
            name = _TRAILING_YEAR.sub("", clean(ref.title))
            if doc_type_at_start(name) and len(name.split()) > 1:
                refs.append((name.split(), ref))
    index = NameIndex([words for words, _ in refs])
    new: list[Found] = []
    spans = _Spans(found)
    for n in lines:
        text = doc.source.line(n)
        for k, start, end in index.matches(text):
            if spans.free(n, start, end):  # the first name to take a span keeps it
                spans.add(n, start, end)
                ref = refs[k][1]
                new.append(Found(n, start, end, clean(text[start:end]), None, ref.doc_type, None, ref.doc_id, "name"))
    return new


def _short(doc: PlanDocument, state: ParseState, lines: list[int], found: list[Found]) -> list[Found]:
    """Short references on ``lines`` (those whose caseless text holds a type's name)."""
    spans = _Spans(found)
    shorts = []  # (line, match, doc_type): the short references, before any is resolved
    for n in lines:
        text = doc.source.line(n)
        if not _DIGIT.search(text):
            continue  # the lines given hold a type's name; the alternation of every type is slow to try
        for m in _short_reference().finditer(text):
            number = m[2]
            if len(number) == 4 and number[:2] in ("19", "20"):
                continue  # 'Kế hoạch 2024' names a year
            if not spans.free(n, m.start(), m.end()):
                continue
            doc_type = _canonical_type(m[1])
            if doc_type == doc.header.doc_type and leading_number(doc.header.number) == leading_number(number):
                continue  # the plan itself
            shorts.append((n, m, doc_type))
    by_number = by_short_key(state, {(doc_type, leading_number(m[2])) for _, m, doc_type in shorts})
    new = []
    for n, m, doc_type in shorts:
        candidates = by_number.get((doc_type, leading_number(m[2])), set())
        doc_id = next(iter(candidates)) if len(candidates) == 1 else None
        if doc_id is None:
            log.warning("%s:%s: reference %r names no single known document", doc.path, n, clean(m[0]))
        new.append(Found(n, m.start(), m.end(), clean(m[0]), m[2], doc_type, None, doc_id,
                         "short" if doc_id else "unresolved"))
    return new


class _Spans:
    """The character spans already read as references, by line (sorted by start),
    so an overlap check costs a bisection, not a scan of every reference found."""

    def __init__(self, found: list[Found]) -> None:
        self._lines: dict[int, list[tuple[int, int]]] = {}
        for f in found:
            self.add(f.line, f.start, f.end)

    def add(self, line: int, start: int, end: int) -> None:
        bisect.insort(self._lines.setdefault(line, []), (start, end))

    def free(self, line: int, start: int, end: int) -> bool:
        spans = self._lines.get(line, [])
        i = bisect.bisect_left(spans, (start, end))
        # Spans do not overlap each other: only the neighbours can overlap [start, end).
        return not any(s < end and start < e for s, e in spans[max(0, i - 1): i + 1])


# -- rows ----------------------------------------------------------------------------------

def _emit(doc: PlanDocument, outline: Outline, out: dict[str, TableBuilder], state: ParseState,
          found: list[Found], bases: list[Basis]) -> None:
    registry = state.documents
    position: dict[int, int] = {}
    for f in sorted(found, key=lambda f: (f.line, f.start)):
        doc_id = registry.canonical(f.doc_id) if f.doc_id else None
        position[f.line] = position.get(f.line, 0) + 1
        section = outline.at(f.line)
        out["citations"].add(
            plan_id=state.plan_id, source_line=f.line, position=position[f.line], doc_id=doc_id,
            reference_text=f.text, number_text=f.number_text, stated_type=f.stated_type, issued_date=f.issued,
            match=f.match, section_id=section.section_id if section else None,
        )
        if doc_id:
            state.relate(doc_id, "cited", f.line)
    for b in bases:
        doc_id = registry.canonical(b.found.doc_id) if b.found and b.found.doc_id else None
        out["legal_bases"].add(
            plan_id=state.plan_id, position=b.position, doc_id=doc_id, text=b.text, section_id=b.section_id,
            source_line=b.line,
        )
        if doc_id:
            state.relate(doc_id, "legal_basis", b.line, b.position)
