"""Where a row was read, beyond its line: the page, and how sure the OCR was.

The parser knows only lines of the canonical text (``source_line``). A
document's rendering (``kehoach/read/document.py``) knows each line's page and
OCR confidence; after the parse, one mechanism fills them into every table
that has ``source_line`` (its schema declares ``source_page``,
``ocr_confidence`` and ``needs_review``), not a rule per table. A row read by
OCR below the review threshold (``KEHOACH_OCR_REVIEW_BELOW``, default 80 on
tesseract's 0-100 scale) needs review: it stays in the tables, so that the
audit's sum checks run over it and a misread amount is caught by the
document's own totals, and the landing page lists it.
"""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa

from kehoach.core.model import Tables, arrow_schema
from kehoach.core.settings import whole_number
from kehoach.read.document import Rendering

PROVENANCE = ("source_page", "ocr_confidence", "needs_review")
DEFAULT_REVIEW_BELOW = 80


def review_below() -> int:
    """The OCR confidence below which a row needs review (a setting)."""
    value = whole_number("KEHOACH_OCR_REVIEW_BELOW")
    return DEFAULT_REVIEW_BELOW if value is None else value


def with_provenance(tables: Tables, rendering: Rendering) -> Tables:
    """The tables with each row's page, OCR confidence and review flag taken from its source line."""
    threshold = review_below()
    out = {}
    for name, table in tables.items():
        if "needs_review" not in table.column_names:
            out[name] = table
            continue
        lines = table.column("source_line").to_pylist()
        pages = [_at(rendering.pages, line) for line in lines]
        confidences = [_at(rendering.confidences, line) for line in lines]
        values = {
            "source_page": pages,
            "ocr_confidence": [None if c is None else Decimal(str(round(c, 1))) for c in confidences],
            "needs_review": [c is not None and c < threshold for c in confidences],
        }
        schema = arrow_schema(name)
        for column, data in values.items():
            field = schema.field(column)
            table = table.set_column(table.schema.get_field_index(column), field, pa.array(data, field.type))
        out[name] = table
    return out


def _at(values: tuple, line: int | None):
    return values[line - 1] if line is not None and 0 < line <= len(values) else None
