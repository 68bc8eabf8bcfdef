"""The id part of a document number ('12345/QĐ-UBND' -> '12345-qd-ubnd'), made fast.

Equal to ``kehoach.core.text.slug`` of the number (tested on random numbers), but a
related-documents list of tens of thousands of entries makes as many ids: the fold
is skipped when there is nothing to fold, and the slug of the codes after the
digits is shared by the many numbers with the same codes.
"""

from __future__ import annotations

from functools import lru_cache

from kehoach.core.text import slug, slug_of_folded

DIGITS = "0123456789"
_SLUG_LENGTH = 100  # slug()'s default length, which ids are cut to


def number_slug(number: str) -> str:
    """``slug(number)``, made without ``fold`` when it has nothing to fold.

    A number whose only letters outside ASCII are 'Đ'/'đ' is NFC already, and the spaces ``fold``
    would collapse are turned into '-' runs by the slug anyway: replacing the two letters is all of
    ``fold`` that changes its slug. Its leading digits then stay as they are, and the slug of the
    rest ('/QĐ-UBND') is shared by the many numbers of a plan with the same codes: a list of tens
    of thousands of documents makes as many ids, each a join instead of a regex."""
    folded = number.replace("Đ", "D").replace("đ", "d")
    if not folded.isascii():
        return slug(number)
    rest = folded.lstrip(DIGITS)
    if len(rest) == len(folded) or not rest or rest[0].isalnum():  # no digits, only digits, or '12a/…'
        return slug_of_folded(folded)
    # The digits end one '-' run's worth of separators ahead of the rest's slug (or end the slug).
    tail = _code_slug(rest)
    digits = folded[: len(folded) - len(rest)]
    return (f"{digits}-{tail}" if tail else digits)[:_SLUG_LENGTH].rstrip("-")


@lru_cache(maxsize=4096)
def _code_slug(rest: str) -> str:
    """``slug_of_folded`` of a number's part after its digits, not cut to length (the whole is)."""
    return slug_of_folded(rest, len(rest))
