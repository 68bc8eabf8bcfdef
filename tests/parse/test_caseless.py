"""``kehoach.core.text.caseless``: the cheap test run on a line before an IGNORECASE regex."""

import re
import sys

from kehoach.core.text import caseless
from kehoach.core.vocabularies import vocabulary

# Every code point but the surrogates, which a str may hold but no text decodes to.
EVERY_CHARACTER = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)


def test_whatever_ignorecase_matches_to_a_letter_folds_to_that_letter():
    """For every letter of the document types' names, every character ``re.IGNORECASE``
    matches to it has the same ``caseless`` form: so a line where the regex finds a
    type's name holds ``caseless(name)``."""
    letters = sorted({c for r in vocabulary("doc_types") for c in r["name_vi"] if c.isalpha()})
    assert "ị" in letters and "i" in letters
    for letter in letters:
        matched = {m[0] for m in re.finditer(re.escape(letter), EVERY_CHARACTER, re.IGNORECASE)}
        assert {caseless(c) for c in matched} == {caseless(letter)}, letter


def test_dotless_and_dotted_capital_i_fold_to_i():
    assert caseless("Thông tư lıên tịch") == caseless("THÔNG TƯ LİÊN TỊCH") == "thông tư liên tịch"
