"""Readers for the values written in plan texts: amounts, dates, deadlines.

All readers take the cell text as written and return typed values; none of
them guesses silently. An amount that is not a well-formed Vietnamese number
raises ``KehoachError`` so the build stops at the line that is wrong.
"""

from __future__ import annotations

import calendar
import decimal
import re
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date
from decimal import Decimal
from functools import cache

from kehoach.core.errors import KehoachError
from kehoach.core.model import money_digits
from kehoach.core.text import clean, key
from kehoach.core.vocabularies import vocabulary

# Integers the package stores are int64; row and list numbers beyond are refused.
INT64_MAX = 2**63 - 1
_INT64_DIGITS = len(str(INT64_MAX))
# A number is read exactly when Decimal's arithmetic keeps all its digits.
_READ_DIGITS = decimal.getcontext().prec

DASHES = {"-", "–", "—", "−"}

# Vietnamese convention: '.' groups thousands, ',' starts the decimals.
_VN_NUMBER = re.compile(r"^(?P<sign>[+-]?)(?P<int>\d{1,3}(?:\.\d{3})+|\d+)(?:,(?P<frac>\d+))?$")


@dataclass(frozen=True)
class Amount:
    """A stated amount cell. ``value`` is None when the cell is blank.

    ``stated`` keeps what the document did: 'number', 'dash' (an explicit
    zero, written '-') or 'blank' (nothing stated).
    """

    value: Decimal | None
    stated: str
    text: str

    @property
    def is_stated(self) -> bool:
        return self.stated != "blank"


def parse_number(text: str) -> Decimal:
    """'17.017' -> 17017, '8.272,20' -> 8272.20, '256.785,7' -> 256785.7."""
    t = clean(text)
    m = _VN_NUMBER.match(t)
    if not m:
        raise KehoachError(f"not a Vietnamese number: {text!r}")
    digits = m["int"].replace(".", "").lstrip("0") or "0"
    frac = m["frac"]
    if len(digits) + len(frac or "") > _READ_DIGITS:
        # Checked before Decimal arithmetic: longer numbers would be rounded (or overflow).
        raise KehoachError(f"number {_shown(t)} has more than {_READ_DIGITS} digits")
    value = Decimal(f"{m['sign']}{digits}.{frac}" if frac else f"{m['sign']}{digits}")
    return value


def _shown(text: str, width: int = 30) -> str:
    """A number as quoted in an error: long ones cut in the middle."""
    return repr(text) if len(text) <= width else repr(f"{text[:12]}…{text[-12:]}") + f" ({len(text)} characters)"


def check_amount(value: Decimal | None, what: str = "amount") -> Decimal | None:
    """``value`` (million VND) if the package's DECIMAL columns hold it exactly.

    The limits are those the schemas declare (``decimalPrecision`` and
    ``decimalScale``), so the error names the rule, not a database overflow.
    """
    if value is None:
        return None
    integer_digits, scale = money_digits()
    if value != 0 and value.adjusted() >= integer_digits:
        raise KehoachError(f"{what} {value:f} has more than {integer_digits} digits before the "
                           f"decimal point (the schemas' limit)")
    if value != value.quantize(Decimal(1).scaleb(-scale), rounding=decimal.ROUND_DOWN, context=_WIDE):
        raise KehoachError(f"{what} {value:f} has more than {scale} decimals (the schemas' limit)")
    return value


# Enough precision for any number ``parse_number`` accepts times any unit factor;
# a result that would still need rounding raises instead.
_EXACT = decimal.Context(prec=4 * _READ_DIGITS, traps=[decimal.Inexact, decimal.InvalidOperation])
_WIDE = decimal.Context(prec=4 * _READ_DIGITS)


def to_million(value: Decimal | None, factor: Decimal, what: str = "amount in million VND") -> Decimal | None:
    """``value`` in a stated unit times its factor, checked against the schemas' limits."""
    return None if value is None else check_amount(_EXACT.multiply(value, factor), what)


def small_int(digits: str) -> int | None:
    """``int(digits)`` when it fits the package's int64 columns, else None.

    Checked on the text: Python refuses to convert more than 4,300 digits."""
    digits = digits.lstrip("0") or "0"
    if len(digits) < _INT64_DIGITS:  # fits whatever the digits (one int(), no comparison)
        return int(digits)
    if len(digits) > _INT64_DIGITS or int(digits) > INT64_MAX:
        return None
    return int(digits)


def parse_amount(text: str | None) -> Amount:
    t = clean(text)
    if t == "":
        return Amount(None, "blank", "")
    if t in DASHES:
        return Amount(Decimal(0), "dash", t)
    return Amount(parse_number(t), "number", t)


def convert_unit(value: Decimal | None, factor: Decimal) -> Decimal | None:
    return to_million(value, factor)


@cache
def unit_factors() -> dict[str, Decimal]:
    return {key(row["unit"]): Decimal(row["factor_to_million_vnd"]) for row in vocabulary("units")}


def unit_factor(unit_text: str) -> Decimal:
    """Factor from a stated unit ('Triệu đồng', 'Tỷ đồng') to million VND."""
    factor = unit_factors().get(key(unit_text))
    if factor is None:
        raise KehoachError(f"unknown money unit {unit_text!r} (add it to reference/units.csv)")
    return factor


# --- dates -----------------------------------------------------------------

_DMY = re.compile(r"(?<![\d/])(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})(?![\d/])")
_LONG_DATE = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE)


def make_date(day: int, month: int, year: int, text: str = "") -> date:
    try:
        return date(year, month, day)
    except (ValueError, OverflowError):  # year 0, 31 February, …
        raise KehoachError(f"not a calendar date: {text or f'{day}/{month}/{year}'!r}") from None


def parse_dmy(text: str) -> date:
    """'20/12/2023' -> 2023-12-20 (the whole text must be one date)."""
    m = _DMY.fullmatch(clean(text))
    if not m:
        raise KehoachError(f"not a d/m/yyyy date: {text!r}")
    return make_date(int(m[1]), int(m[2]), int(m[3]), text)


def find_long_date(text: str) -> date | None:
    """'ngày 20 tháng 12 năm 2023' -> 2023-12-20."""
    m = _LONG_DATE.search(clean(text))
    return make_date(int(m[1]), int(m[2]), int(m[3]), m[0]) if m else None


def last_day_of_month(year: int, month: int, text: str = "") -> date:
    if not MINYEAR <= year <= MAXYEAR or not 1 <= month <= 12:
        raise KehoachError(f"not a calendar month: {text or f'{month}/{year}'!r}")
    return date(year, month, calendar.monthrange(year, month)[1])


# --- deadlines ---------------------------------------------------------------

ROMAN_QUARTERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_QUARTER = re.compile(r"quý\s+(iv|iii|ii|i|[1-4])\s*(?:/|năm)\s*(\d{4})", re.IGNORECASE)
_YEAR_RANGE = re.compile(r"(?<!\d)(\d{4})\s*[-–]\s*(\d{4})(?!\d)")
_MONTH_YEAR = re.compile(r"(?<![\d/])(\d{1,2})\s*/\s*(\d{4})(?![\d/])")
_YEAR = re.compile(r"(?<![\d/])(\d{4})(?![\d/])")
# A month in words with its year ('Tháng 3 năm 2024'), and a month without a year ('Tháng 12'): the
# month of the plan year, when the plan has one (a number that is no month is left: 'other').
_MONTH_WORDS = re.compile(r"\btháng\s+(\d{1,2})\s+năm\s+(\d{4})(?![\d/])", re.IGNORECASE)
_MONTH_ONLY = re.compile(r"\btháng\s+(0?[1-9]|1[0-2])(?![\d/])(?!\s+năm\s+\d)", re.IGNORECASE)
# Words that only connect parts of a deadline ("trước 30/3/2024", "và").
_FILLER = re.compile(r"\b(và|hoặc|trước|đến|từ|trong|năm|ngày|tháng|cuối|chậm nhất)\b|[,;.\-–()]", re.IGNORECASE)

DEADLINE_KINDS = (
    "none", "date", "dates", "month", "month_of_plan_year", "quarter", "year", "year_range",
    "ongoing", "annual", "quarterly", "mixed", "other",
)


@dataclass(frozen=True)
class Deadline:
    text: str
    kind: str
    date: date | None


@cache
def _recurring_terms() -> tuple[tuple[str, str], ...]:
    # Longest first so 'định kỳ hằng năm' wins over 'hằng năm'.
    terms = [(clean(r["term"]).casefold(), r["kind"]) for r in vocabulary("deadline_terms")]
    return tuple(sorted(terms, key=lambda t: -len(t[0])))


def parse_deadline(text: str | None, plan_year: int | None = None) -> Deadline:
    """Classify a deadline cell and compute the latest date it names or implies.

    Year ranges imply 31 December of their last year, quarters their last
    day, months their last day (a month without a year, 'Tháng 12', that month
    of ``plan_year``: kind ``month_of_plan_year``); recurring terms ('Thường
    xuyên', 'Hằng năm', 'Quý trong năm') imply no date.
    """
    verbatim = clean(text)
    if not verbatim:
        return Deadline("", "none", None)
    rest = verbatim.casefold()
    recurring: list[str] = []
    for term, kind in _recurring_terms():
        if term in rest:
            recurring.append(kind)
            rest = rest.replace(term, " ")

    calendar_parts: list[tuple[str, date]] = []

    def take(pattern: re.Pattern[str], kind: str, to_date) -> None:
        nonlocal rest
        for m in pattern.finditer(rest):
            calendar_parts.append((kind, to_date(m)))
        rest = pattern.sub(" ", rest)

    take(_DMY, "date", lambda m: make_date(int(m[1]), int(m[2]), int(m[3]), m[0]))
    take(_QUARTER, "quarter", lambda m: last_day_of_month(int(m[2]), 3 * ROMAN_QUARTERS[m[1].lower()], m[0]))
    take(_YEAR_RANGE, "year_range", lambda m: last_day_of_month(max(int(m[1]), int(m[2])), 12, m[0]))
    take(_MONTH_YEAR, "month", lambda m: last_day_of_month(int(m[2]), _month(m), m[0]))
    take(_MONTH_WORDS, "month", lambda m: last_day_of_month(int(m[2]), _month(m), m[0]))
    take(_YEAR, "year", lambda m: last_day_of_month(int(m[1]), 12, m[0]))
    if plan_year is not None:
        take(_MONTH_ONLY, "month_of_plan_year", lambda m: last_day_of_month(plan_year, _month(m), m[0]))

    leftover = _FILLER.sub(" ", rest).strip()
    latest = max((d for _, d in calendar_parts), default=None)
    kinds = {k for k, _ in calendar_parts}
    if not calendar_parts and not recurring:
        kind = "other"
    elif recurring and calendar_parts:
        kind = "mixed"
    elif recurring:
        kind = recurring[0] if len(set(recurring)) == 1 else "mixed"
    elif kinds == {"date"}:
        kind = "date" if len(calendar_parts) == 1 else "dates"
    elif len(calendar_parts) == 1:
        kind = calendar_parts[0][0]
    else:
        kind = "dates"
    if leftover and kind != "other":
        # Unrecognised words next to recognised parts: keep the reading but
        # say it is not fully understood.
        kind = "other"
    return Deadline(verbatim, kind, latest)


def _month(m: re.Match[str]) -> int:
    month = int(m[1])
    if not 1 <= month <= 12:
        raise KehoachError(f"not a month: {m[0]!r}")
    return month
