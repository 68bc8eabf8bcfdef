"""Numbers and dates as a person reads them, by language: the one rule.

Vietnamese groups thousands with '.' and starts decimals with ',' (``224.826``,
``256.785,7``); English the other way round (``224,826``, ``256,785.7``). A
Vietnamese reader takes ``224,826`` for a decimal number, so every text a
person reads (the audit's messages, the landing page, its charts) goes through
here. Babel's ``format_decimal(…, locale="vi_VN")`` gives the same for these
two languages; for one rule it is not worth a dependency (and its locale data).
Data files keep their machine form (``224826.000000``, ISO dates).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

SEPARATORS = {"vi": (".", ","), "en": (",", ".")}  # language -> (thousands, decimal)
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")


def format_number(value: Decimal | int | float, lang: str, signed: bool = False, places: int | None = None) -> str:
    """17017 -> '17.017' (vi) / '17,017' (en); 256785.7 -> '256.785,7' / '256,785.7';
    ``places``: rounded to that many decimals (none: as many as the value has)."""
    value = Decimal(str(value))
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    text = format(abs(value) if places is not None else abs(value).normalize(), "f")
    whole, _, frac = text.partition(".")
    thousands, decimal = SEPARATORS.get(lang, SEPARATORS["en"])
    grouped = f"{int(whole):,}".replace(",", thousands)
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    return f"{sign}{grouped}{decimal + frac if frac else ''}"


def format_date(value: date, lang: str) -> str:
    """2023-12-20 -> '20/12/2023' (vi) / '20 December 2023' (en)."""
    if lang == "vi":
        return f"{value:%d/%m/%Y}"
    return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"
