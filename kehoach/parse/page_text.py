"""Text as a web page leaves it: markers of the page that are not the document.

Crawled pages keep link and script markers inside cells (``[Link: …]``,
``[JavaScript: …]``) and markdown transcriptions bold their labels
(``**I.**``). The patterns are data (``reference/page_leftovers.csv``).
"""

from __future__ import annotations

import re
from functools import cache

from kehoach.core.text import clean
from kehoach.core.vocabularies import vocabulary


@cache
def _leftovers() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(r["pattern"]) for r in vocabulary("page_leftovers"))


def strip_leftovers(text: str) -> str:
    """The text without page markers (not cleaned: '|' and line structure are kept)."""
    for pattern in _leftovers():
        text = pattern.sub("", text)
    return text


def page_clean(text: str | None) -> str:
    """``clean`` after removing page markers: the text a reader of the document sees."""
    return clean(strip_leftovers(text or ""))


_CAPS_IGNORED = re.compile(r"[^\w]|\d|_")


def is_capitals(text: str) -> bool:
    """Letters present and all in capitals ('KẾ HOẠCH', 'NĂM 2024'); digits and marks do not count."""
    letters = _CAPS_IGNORED.sub("", text)
    return bool(letters) and letters == letters.upper()
