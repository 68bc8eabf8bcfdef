"""Text normalisation shared by every parser.

Three different normal forms are used on purpose:
- ``clean``: what we store (NFC, single spaces, trimmed), close to the source;
- ``key``: what we compare vocabulary on (case-folded, punctuation spacing
  removed), never stored;
- ``slug``: ASCII identifiers for ids and file names.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# Spacing around joiners varies by typist: "LĐ- TB&XH", "NN &PTNT", "QĐ- BTTTT".
_JOINER_SPACING = re.compile(r"\s*([&/\-–.])\s*")
_KEY_DROP = re.compile(r"[,;:()\"“”'‘’]")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def clean(text: str | None) -> str:
    """NFC, whitespace (including no-break spaces) collapsed, trimmed."""
    if text is None:
        return ""
    return _SPACES.sub(" ", nfc(text).replace("\u00a0", " ")).strip()


def key(text: str) -> str:
    """Comparison key for vocabulary lookups (agencies, headers, units)."""
    k = clean(text).casefold()
    k = _KEY_DROP.sub(" ", k)
    k = _JOINER_SPACING.sub(r"\1", k)
    k = k.replace("–", "-")
    return _SPACES.sub(" ", k).strip(" .")


def fold(text: str) -> str:
    """ASCII transliteration of Vietnamese: 'Quảng Ngãi' -> 'Quang Ngai'."""
    text = clean(text).replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def slug(text: str, max_length: int = 100) -> str:
    """Lower-case ASCII slug with '-' separators: '219/KH-UBND' -> '219-kh-ubnd'."""
    s = re.sub(r"[^a-z0-9]+", "-", fold(text).lower()).strip("-")
    return s[:max_length].rstrip("-")
