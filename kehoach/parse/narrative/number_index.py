"""The documents a plan cites, looked up by their number: by the number without its year
('01/2023/NQ-CP' -> '01/NQ-CP' of 2023) and by type and leading number ('Quyết định 17').

Only the numbers asked for are keyed: a related-documents list can hold tens of
thousands of documents, and a key made for each would cost more than the lookups.
"""

from __future__ import annotations

import re

from kehoach.parse.legal_documents import DocRef
from kehoach.parse.state import ParseState

_NUMBER_WITH_YEAR = re.compile(r"^(\d+[a-z]?)/(\d{4})/(.+)$")
_DIGITS = re.compile(r"\d+")


def plain_number(ref: DocRef | None) -> tuple[str, int] | None:
    """'01/2023/NQ-CP' -> ('01/nq-cp', 2023): the number without its year, and the year."""
    m = _NUMBER_WITH_YEAR.match(ref.number or "") if ref else None
    return (f"{m[1]}/{m[3]}".casefold(), int(m[2])) if m else None


def by_plain_number(
    state: ParseState, wanted: set[tuple[str, int] | None]
) -> dict[tuple[str, int | None], list[DocRef]]:
    """The documents (as they are now) under each of the ``wanted`` (number, year): only those
    looked up, so a text citing tens of thousands of documents builds no list for each."""
    found: dict[tuple[str, int | None], list[DocRef]] = {}
    for d in state.documents.docs.values() if wanted - {None} else ():
        if d.number and (number := (d.number.casefold(), d.year)) in wanted:
            found.setdefault(number, []).append(d)
    return found


def by_short_key(state: ParseState, wanted: set[tuple[str | None, str | None]]) -> dict[tuple, set[str]]:
    """The ids of the documents under each wanted (type, leading number): only the documents of a
    wanted type are keyed, not each of the tens of thousands a long related list can hold."""
    types = {doc_type for doc_type, _ in wanted}
    # What a number whose leading number is wanted starts with once its zeros are stripped (a
    # leading number that is no number or only zeros filters nothing): a test in C before the regex.
    starts = tuple(lead if lead and lead != "0" else "" for _, lead in wanted)
    found: dict[tuple[str | None, str | None], set[str]] = {}
    for r in state.documents.docs.values():
        if (r.number and r.doc_type in types and r.number.lstrip("0").startswith(starts)
                and (k := (r.doc_type, leading_number(r.number))) in wanted):
            found.setdefault(k, set()).add(r.doc_id)
    return found


def leading_number(number: str) -> str | None:
    """'0085/2016/NĐ-CP' -> '85': compared as text (no int of a 5,000-digit number)."""
    m = _DIGITS.match(number)
    return (m[0].lstrip("0") or "0") if m else None
