"""``kehoach.core.text.clean``: NFC, whitespace collapsed, trimmed; a text
clean once trimmed is returned as it is, without being split into words."""

import sys
import unicodedata

from kehoach.core.text import clean

EVERY_CHARACTER = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]


def _reference(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def test_every_character_alone_inside_and_around_a_word_cleans_as_split_and_joined():
    """Whatever character a text holds (every space ``str.split`` knows, controls,
    zero-width marks, combining accents), ``clean`` gives what splitting the NFC
    text on whitespace and joining it with single spaces gives."""
    for c in EVERY_CHARACTER:
        for text in (c, f"{c}Sở {c}TT{c} b {c}"):  # alone; first, after a space, inside, last
            assert clean(text) == _reference(text), hex(ord(c))


def test_values_read_from_a_plan_line():
    assert clean("  Sở\u00a0Thông tin  và\tTruyền thông ") == "Sở Thông tin và Truyền thông"
    assert clean("Quảng Ngãi") == "Quảng Ngãi"  # decomposed accents composed
    assert clean("UBND tỉnh") == "UBND tỉnh"
    assert clean(None) == "" and clean(" \u2003 ") == ""
