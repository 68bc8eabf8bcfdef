"""What a heading or a paragraph's opening words say a section is for (``reference/narrative_headings.csv``),
and a section heading whose numeral OCR dropped or misread, told by its words instead.

On a line OCR read, '. CĂN CỨ LẬP KẾ HOẠCH' (its 'I' lost) or 'l. MỤC TIÊU' is still a section heading when
the rest is in capitals and names what a section is for (scope 'structure'); the caller flags it for
review. A text's headings are told by their numbering alone (``narrative.outline``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from kehoach.core.text import key
from kehoach.core.vocabularies import vocabulary
from kehoach.parse.page_text import is_capitals

# What is left of a roman numeral OCR dropped or misread before a heading in capitals: a stray stop, or
# strokes that look like 'I' ('l', '1', '|', '!') before a stop or a space.
_DAMAGED_ROMAN = re.compile(r"^(?:[.,:)]|[IVXLCl1|!]{1,4}\s*[.,:)]?)\s+(\S.*)$")


@dataclass(frozen=True)
class HeadingRole:
    pattern: re.Pattern[str]
    role: str
    # 'structure' (what a part/section is for) or 'label' (Part I's result/shortcoming labels), both
    # matched on a heading's key; 'opener' (a paragraph's opening words), matched in any case on its text
    scope: str


@cache
def _heading_roles() -> tuple[HeadingRole, ...]:
    return tuple(HeadingRole(re.compile(r["pattern"], re.IGNORECASE if r["scope"] == "opener" else 0), r["role"],
                             r["scope"]) for r in vocabulary("narrative_headings"))


def heading_role(heading: str, scope: str) -> str | None:
    k = key(heading)
    return next((r.role for r in _heading_roles() if r.scope == scope and r.pattern.search(k)), None)


def opener(text: str, role: str) -> re.Match[str] | None:
    """The words opening ``text`` that give it ``role`` ('Căn cứ ' -> legal_bases), if any."""
    for r in _heading_roles():
        if r.scope == "opener" and r.role == role:
            m = r.pattern.match(text)
            if m:
                return m
    return None


def damaged_section(text: str) -> str | None:
    """The title of ``text`` (cleaned) read as a section heading whose roman numeral OCR dropped or
    misread, or None. For lines OCR read only: a text's '. KINH PHÍ' is not a heading."""
    m = _DAMAGED_ROMAN.match(text)
    if not m or not is_capitals(m[1]) or heading_role(m[1], "structure") is None:
        return None
    return m[1]
