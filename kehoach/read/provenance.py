"""Where a row was read, beyond its line: the page, and how sure the OCR was.

The parser knows only lines of the canonical text (``source_line``). A
document's rendering (``kehoach/read/document.py``) knows each line's page and
OCR confidence, and a ``SourceText`` carries them (``line_pages``,
``line_confidences``; None for a plain text). One mechanism fills them into
every table whose schema declares ``source_page``, ``ocr_confidence`` and
``needs_review``, from each row's ``source_line``, as the parse hands over a
plan's rows (``kehoach/parse/plan.py``): not a rule per table. A row read by
OCR below the review threshold (``KEHOACH_OCR_REVIEW_BELOW``, default 80 on
tesseract's 0-100 scale) needs review: it stays in the tables, so that the
audit's sum checks run over it and a misread amount is caught by the
document's own totals, and the landing page lists it. So does a row of a
table whose header OCR misread and the parser matched only tolerantly
(``doubtful``: the lines of such tables; ``kehoach/parse/table_header.py``),
whatever the confidence of its own values: which column a value is in was
itself a guess.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

from kehoach.core.model import field_names, resource_names
from kehoach.core.settings import whole_number

PROVENANCE = ("source_page", "ocr_confidence", "needs_review")
DEFAULT_REVIEW_BELOW = 80


def review_below() -> int:
    """The OCR confidence below which a row needs review (a setting)."""
    value = whole_number("KEHOACH_OCR_REVIEW_BELOW")
    return DEFAULT_REVIEW_BELOW if value is None else value


@cache
def _with_provenance() -> frozenset[str]:
    """The tables whose schema declares the provenance columns (read once, not for each plan)."""
    return frozenset(name for name in resource_names() if "needs_review" in field_names(name))


def ocr_lines(confidences: tuple[float | None, ...] | None) -> frozenset[int]:
    """The lines (1-based) of a text that OCR read: those with a confidence."""
    return frozenset(n for n, c in enumerate(confidences or (), 1) if c is not None)


def fill_provenance(rows: dict[str, list[dict[str, Any]]], pages: tuple[int | None, ...] | None,
                    confidences: tuple[float | None, ...] | None, doubtful: frozenset[int] = frozenset()) -> None:
    """Each row's page, OCR confidence and review flag, from its source line (in place); a row on
    one of the ``doubtful`` lines needs review too. A plain text (no pages, no confidences) gives
    no page and nothing to review."""
    threshold = review_below()
    for name, table in rows.items():
        if not table or name not in _with_provenance():
            continue
        for row in table:
            line = row.get("source_line")
            confidence = _at(confidences, line)
            row["source_page"] = _at(pages, line)
            row["ocr_confidence"] = None if confidence is None else Decimal(str(round(confidence, 1)))
            row["needs_review"] = confidence is not None and (confidence < threshold or line in doubtful)


def _at(values: tuple | None, line: int | None):
    return values[line - 1] if values and line is not None and 0 < line <= len(values) else None
