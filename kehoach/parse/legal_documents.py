"""References to legal documents: reading them and giving each one id.

The same document is written many ways ('Quyết định 458/QĐ-TTg năm 2020',
'Quyết định số 458/QĐ-TTg ngày 03/4/2020', '458/QĐ- TTg'); every form is
reduced to one ``doc_id`` built from its number (spaces removed), its year
and, for documents of a local body (UBND, Tỉnh ủy…), the province.
Document types and issuer codes come from ``reference/doc_types.csv`` and
``reference/issuers.csv``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import date
from functools import cache, lru_cache
from typing import NamedTuple

from kehoach.core.text import clean, fold, key, nfc, slug
from kehoach.core.vocabularies import vocabulary
from kehoach.parse.number_slugs import DIGITS, number_slug
from kehoach.parse.values import make_date

# '458/QĐ-TTg', '85/2016/NĐ-CP', '2294/QĐ- BTTTT', '6074/BTTTT-CĐSQG', '13-NQ/TU', '20/2023/QH15'
_CODE_WORD = r"[A-ZĐ][A-Za-zĐđƯư&]*\d*"
NUMBER_PATTERN = (
    rf"\d+[a-z]?(?:/\d{{4}})?/{_CODE_WORD}(?:\s?-\s?{_CODE_WORD})*"
    rf"|\d+-{_CODE_WORD}/{_CODE_WORD}"
)
_NUMBER = re.compile(rf"(?<![\w/])(?:{NUMBER_PATTERN})(?![\w/])")
_YEAR_AFTER = re.compile(r"^\s*(?:năm|ngày\s+\d{1,2}\s*/\s*\d{1,2}\s*/)\s*(\d{4})")
# 'ngày 03/4/2020', '31/12/2022' (the word 'ngày' is sometimes left out), 'ngày 06 tháng 01 năm 2023'
# Used with .match(text, pos) (no '^': it would match only at the start of the line), so a
# line citing many documents is not copied from each number to its end.
_DATE_AFTER = re.compile(
    r"\s*,?\s*(?:ngày\s+)?(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})(?![\d/])"
    r"|\s*,?\s*ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})",
    re.IGNORECASE,
)
_YEAR_ONLY_AFTER = re.compile(r"\s*năm\s+(\d{4})(?!\d)")
_ISSUED_BY = re.compile(r"\bdo\s+(.+?)\s+(?:ban hành|điện|ký)\s*$", re.IGNORECASE)
# The end _ISSUED_BY needs, tried on the last characters of a cleaned entry (no trailing space) before
# the whole search, which tries 'do' at every word of every entry of a long list.
_ISSUED_BY_END = re.compile(r"(?:ban hành|điện|ký)$", re.IGNORECASE)
_ISSUED_BY_END_LENGTH = len("ban hành")
# The characters that can end such a match (checked over every code point: re's case-insensitive
# matching pairs these letters with no other), tested before any regex on an entry.
_ISSUED_BY_LAST = frozenset("hHnNýÝ")
_TRAILING_YEAR = re.compile(r"\b(\d{4})\s*$")
_YEAR_IN_NUMBER = re.compile(r"\d+[a-z]?/(\d{4})/")
_PARTY_NUMBER = re.compile(r"\d+-")
_DIGIT = re.compile(r"\d")


class DocRef(NamedTuple):
    """One document cited. A named tuple, not a frozen dataclass: as immutable, and made about three
    times faster (a frozen dataclass sets each field through object.__setattr__), which a list of
    tens of thousands of related documents feels."""

    doc_id: str
    doc_type: str | None
    doc_type_en: str | None
    number: str | None
    issuer: str | None
    issuer_en: str | None
    year: int | None
    issued_date: date | None
    title: str | None


class Context(NamedTuple):
    """What a reference inherits from the plan citing it (for local issuers). A named tuple: it keys
    the issuer cache, and a tuple hashes in C where a frozen dataclass calls its __hash__ per lookup."""

    province: str
    province_unit: str = "tỉnh"


@cache
def _doc_types() -> tuple[tuple[str, str, str], ...]:
    rows = [(r["name_vi"], r["name_en"], r["code"]) for r in vocabulary("doc_types")]
    return tuple(sorted(rows, key=lambda r: -len(r[0])))


@cache
def _type_en() -> dict[str, str]:
    """English name by Vietnamese name (the first row of each, as the longest-first scan found it)."""
    found: dict[str, str] = {}
    for vi, en, _ in _doc_types():
        found.setdefault(vi, en)
    return found


@cache
def _default_issuers() -> dict[str, str]:
    return {r["name_vi"]: r["default_issuer"] for r in vocabulary("doc_types") if r["default_issuer"]}


@cache
def _issuers() -> dict[str, dict[str, str]]:
    return {key(r["code"]): r for r in vocabulary("issuers")}


@cache
def _doc_type_keys() -> tuple[tuple[str, str, str], ...]:
    """(key of the name, name_vi, name_en), longest name first (keys computed once, not per reference)."""
    return tuple((key(vi), vi, en) for vi, en, _ in _doc_types())


@cache
def _doc_type_codes() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for name_vi, name_en, c in _doc_types():
        if c:
            found.setdefault(key(c), (name_vi, name_en))
    return found


def doc_type_at_start(text: str) -> tuple[str, str] | None:
    """('Quyết định', 'Decision') when ``text`` starts with a document type."""
    head_length, before_digits = _type_scan()
    head = text[:head_length]  # only the start matters: keying a long line per reference was quadratic
    if before_digits and (digit := _DIGIT.search(head)):
        # No type's key holds a digit or ends in ' ' or '.', so whether one starts the key is decided
        # before the first digit: 'Quyết định 1234/…' and 'Quyết định 58/…' share one cached answer.
        head = head[:digit.start()]
    return _type_at_start(head)


@cache
def _type_scan() -> tuple[int, bool]:
    """How much of a text's start can hold a type, and whether every type's key ends before a digit."""
    longest = len(_doc_type_keys()[0][0]) if _doc_type_keys() else 0
    before_digits = all(k and not _DIGIT.search(k) and k[-1] not in " ." for k, _, _ in _doc_type_keys())
    return 2 * longest + 8, before_digits


@lru_cache(maxsize=4096)
def _type_at_start(head: str) -> tuple[str, str] | None:
    k = key(head)
    for name_key, name_vi, name_en in _doc_type_keys():
        if k.startswith(name_key):
            return name_vi, name_en
    return None


@lru_cache(maxsize=4096)  # a plan's numbers use few type codes, many times each
def doc_type_from_code(code: str) -> tuple[str, str] | None:
    return _doc_type_codes().get(key(code))


def normalize_number(number: str) -> str:
    """NFC, every space removed ('2294/QĐ- BTTTT' -> '2294/QĐ-BTTTT')."""
    # str.split() splits on exactly what ``\s`` matches: clean()'s collapsing and a regex removing
    # the spaces left, in one pass.
    return "".join(nfc(number).split())


def split_number(number: str) -> tuple[int | None, str | None, str | None]:
    """'85/2016/NĐ-CP' -> (2016, 'NĐ', 'CP'); '6074/BTTTT-CĐSQG' -> (None, None, 'BTTTT')."""
    return _split_normalized(normalize_number(number))


def _split_normalized(n: str) -> tuple[int | None, str | None, str | None]:
    rest = n.lstrip(DIGITS)
    if len(rest) == len(n) or "/" not in rest:  # no leading number, or the number's digits are its suffix too
        return _split_shape(n)
    # Only the presence of the leading number counts: '12345/QĐ-UBND' is split as '0/QĐ-UBND' is,
    # and a list of tens of thousands of numbers shares a few cached answers.
    return _split_shape("0" + rest)


@lru_cache(maxsize=4096)
def _split_shape(n: str) -> tuple[int | None, str | None, str | None]:
    year = None
    m = _YEAR_IN_NUMBER.match(n)
    if m:
        year = int(m[1])
    if _PARTY_NUMBER.match(n):  # party documents: '13-NQ/TU'
        type_code, issuer_code = n.split("-", 1)[1].split("/", 1)
        return year, type_code, issuer_code.split("-")[0]
    suffix = n.rsplit("/", 1)[-1]
    words = suffix.split("-")
    if len(words) > 1 and doc_type_from_code(words[0]):
        return year, words[0], words[1]
    return year, None, words[0]


@lru_cache(maxsize=4096)  # a plan cites few issuers, many times each
def issuer_for(code: str | None, context: Context) -> tuple[str | None, str | None, bool]:
    """(name_vi, name_en, is_local) for an issuer code such as 'TTg' or 'UBND'."""
    if not code:
        return None, None, False
    # 'QH15' is the National Assembly of the 15th term: the term does not change the issuer.
    row = _issuers().get(key(code)) or _issuers().get(key(re.sub(r"\d+$", "", code)))
    if not row:
        return None, None, False
    fill = {
        "province": context.province,
        "province_full": f"{context.province_unit} {context.province}",
        "province_en": fold(context.province),
    }
    return row["name_vi"].format(**fill), row["name_en"].format(**fill), row["scope"] == "local"


def make_ref(
    number: str | None,
    context: Context,
    *,
    doc_type: str | None = None,
    year: int | None = None,
    issued: date | None = None,
    title: str | None = None,
    issuer: str | None = None,
) -> DocRef:
    type_code = issuer_code = None
    if number:
        number = normalize_number(number)
        number_year, type_code, issuer_code = _split_normalized(number)
        year = year or number_year or (issued.year if issued else None)
    doc_type, doc_type_en, issuer, issuer_en, local = _attribution(type_code, issuer_code, doc_type, issuer, context)
    if number:
        base = number_slug(number)
        if year and str(year) not in number:
            base = f"{base}-{year}"
        doc_id = f"{_province_slug(context.province)}-{base}" if local else base
    else:
        doc_id = slug(title or "")
    return DocRef(doc_id, doc_type, doc_type_en, number, issuer, issuer_en, year, issued, title)


@lru_cache(maxsize=4096)  # a plan's references share few codes, types and issuers: once each, not per reference
def _attribution(
    type_code: str | None, issuer_code: str | None, doc_type: str | None, issuer: str | None, context: Context
) -> tuple[str | None, str | None, str | None, str | None, bool]:
    """(doc_type, doc_type_en, issuer, issuer_en, is_local) of a reference: the codes of its number
    are the authority over the type and issuer stated around it."""
    doc_type_en = None
    from_code = doc_type_from_code(type_code) if type_code else None
    if from_code:  # 'Quyết định số 189/KH-UBND' is a Kế hoạch
        doc_type = from_code[0]
    code_issuer, issuer_en, local = issuer_for(issuer_code, context)
    issuer = code_issuer or issuer
    if doc_type:
        doc_type_en = _type_en().get(doc_type)
        if issuer is None and _default_issuers().get(doc_type):
            issuer, issuer_en, _ = issuer_for(_default_issuers()[doc_type], context)
    return doc_type, doc_type_en, issuer, issuer_en, local


@lru_cache(maxsize=64)
def _province_slug(province: str) -> str:
    return slug(province)


def parse_related_entry(text: str, context: Context) -> DocRef:
    """One entry of a legal site's list of related documents.

    'Quyết định 458/QĐ-TTg năm 2020 về … do Thủ tướng Chính phủ ban hành'
    'Luật Giao dịch điện tử 2023'
    """
    text = clean(text)
    found_type = doc_type_at_start(text)
    doc_type = found_type[0] if found_type else None
    m = _NUMBER.search(text)
    year = None
    issuer = None
    by = (text[-1:] in _ISSUED_BY_LAST and _ISSUED_BY_END.search(text, max(0, len(text) - _ISSUED_BY_END_LENGTH))
          and _ISSUED_BY.search(text))
    if by:
        issuer = clean(by[1])
    if m:
        after = _YEAR_AFTER.match(text[m.end():])
        year = int(after[1]) if after else None
        return make_ref(m[0], context, doc_type=doc_type, year=year, title=text, issuer=issuer)
    trailing = _TRAILING_YEAR.search(text)
    year = int(trailing[1]) if trailing else None
    return make_ref(None, context, doc_type=doc_type, year=year, title=text, issuer=issuer)


def date_after(text: str, pos: int = 0) -> date | None:
    """'ngày 03/4/2020' (or '03/4/2020', 'ngày 3 tháng 4 năm 2020') at ``pos`` in ``text``."""
    m = date_match_after(text, pos)
    if not m:
        return None
    day, month, year = (m[1], m[2], m[3]) if m[1] else (m[4], m[5], m[6])
    return make_date(int(day), int(month), int(year), m[0])


def date_match_after(text: str, pos: int = 0) -> re.Match[str] | None:
    return _DATE_AFTER.match(text, pos)


def year_match_after(text: str, pos: int = 0) -> re.Match[str] | None:
    """' năm 2020' at ``pos``, right after a number (the publisher's list writes years so)."""
    return _YEAR_ONLY_AFTER.match(text, pos)


def number_matches(text: str) -> Iterator[re.Match[str]]:
    # every number holds a '/' (NUMBER_PATTERN): a text without one is not scanned
    return _NUMBER.finditer(text) if "/" in text else iter(())


class DocumentRegistry:
    """Collects references and merges the forms of one document.

    A reference without a year ('Nghị quyết 01/NQ-CP về …') is merged into
    the single reference with the same number that has one; details known
    from any form (date, title, issuer) are kept.
    """

    def __init__(self) -> None:
        self.docs: dict[str, DocRef] = {}
        self.moves: dict[str, str] = {}
        self._resolved = False  # no reference added or merged since the last resolve_aliases

    def add(self, ref: DocRef) -> str:
        self._resolved = False
        doc_id = ref.doc_id
        if doc_id in self.moves:  # a form already merged into another id stays merged
            doc_id = self.canonical(doc_id)
        existing = self.docs.get(doc_id)
        if existing:
            self.docs[doc_id] = _merge(existing, ref)
        else:
            self.docs[doc_id] = ref if ref.doc_id == doc_id else ref._replace(doc_id=doc_id)
        return doc_id

    def merge(self, old_id: str, new_id: str) -> None:
        """Record that ``old_id`` is another way of citing ``new_id``."""
        if old_id == new_id or old_id not in self.docs or new_id not in self.docs:
            return
        self._resolved = False
        self.docs[new_id] = _merge(self.docs[new_id], self.docs.pop(old_id))
        self.moves[old_id] = new_id

    def canonical(self, doc_id: str) -> str:
        if doc_id not in self.moves:
            return doc_id
        seen = {doc_id}
        while doc_id in self.moves:
            doc_id = self.moves[doc_id]
            if doc_id in seen:
                break
            seen.add(doc_id)
        return doc_id

    def resolve_aliases(self) -> dict[str, str]:
        """Merge year-less ids into their dated twin; returns every old id -> its final id
        (cumulative: ids merged by earlier calls or by ``merge`` are included)."""
        if not self._resolved:  # a second pass over unchanged documents would merge nothing
            self._merge_undated()
            self._resolved = True
        return {old: self.canonical(old) for old in self.moves}

    def _merge_undated(self) -> None:
        # Only a number written more than once can have a twin to merge: numbers are counted first,
        # and the scope of an id (a slug and a search) is worked out for those alone, not for each
        # of the tens of thousands of documents a long list cites once.
        numbered = [(ref.number.casefold(), ref) for ref in self.docs.values() if ref.number]
        counts = Counter(number for number, _ in numbered)
        groups: dict[tuple[str | None, str], list[DocRef]] = {}
        for number, ref in numbered:
            if counts[number] > 1:
                groups.setdefault((_scope(ref), number), []).append(ref)
        for refs in groups.values():  # in the order numbers were first met
            dated = [r for r in refs if r.year]
            undated = [r for r in refs if not r.year]
            if len({r.doc_id for r in dated}) == 1 and undated:
                target = dated[0].doc_id
                for r in undated:
                    self.merge(r.doc_id, target)


def _scope(ref: DocRef) -> str | None:
    """What the id holds before the number: the province of a local document ('' for others)."""
    if not ref.number:
        return None
    at = ref.doc_id.find(number_slug(ref.number))
    return ref.doc_id[:at] if at >= 0 else ref.doc_id


def _merge(a: DocRef, b: DocRef) -> DocRef:
    return a._replace(
        doc_type=a.doc_type or b.doc_type,
        doc_type_en=a.doc_type_en or b.doc_type_en,
        issuer=a.issuer or b.issuer,
        issuer_en=a.issuer_en or b.issuer_en,
        year=a.year or b.year,
        issued_date=a.issued_date or b.issued_date,
        title=a.title or b.title,
    )
