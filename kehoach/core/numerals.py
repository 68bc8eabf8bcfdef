"""Roman numerals, as documents number their parts ('PHỤ LỤC II', a group 'IV.'), read and written."""

from __future__ import annotations

_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_NUMERALS = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
             (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))


def roman_value(roman: str) -> int:
    """The value of a numeral in capitals ('XIV' -> 14); a smaller letter before a larger one subtracts."""
    total = 0
    for i, ch in enumerate(roman):
        v = _VALUES[ch]
        total += -v if i + 1 < len(roman) and _VALUES[roman[i + 1]] > v else v
    return total


def roman_numeral(n: int) -> str:
    """The numeral in capitals for ``n`` >= 1 (14 -> 'XIV')."""
    roman = ""
    for value, numeral in _NUMERALS:
        while n >= value:
            roman, n = roman + numeral, n - value
    return roman
