"""Hand-maintained vocabularies in ``reference/`` (CSV, UTF-8, reviewed by hand).

Parsers never hard-code names: agencies, areas, document types, issuers,
units, table headers and deadline words all come from these files, so a plan
from another province or year needs at most new rows here, not new code.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from kehoach.core.errors import KehoachError
from kehoach.core.paths import REFERENCE_DIR
from kehoach.core.text import clean


def read_csv(name: str, directory: Path | None = None) -> list[dict[str, str]]:
    """Rows of ``reference/<name>.csv`` with NFC-cleaned values ('' for blanks)."""
    path = (directory or REFERENCE_DIR) / f"{name}.csv"
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = []
            for row in reader:
                if None in row:
                    raise KehoachError("row has more cells than the header", path, reader.line_num)
                rows.append({k: clean(v) for k, v in row.items()})
            return rows
    except FileNotFoundError:
        raise KehoachError("reference vocabulary is missing", path) from None


def split_list(value: str) -> list[str]:
    """Multi-valued reference cells use '|' between values."""
    return [clean(v) for v in value.split("|") if clean(v)]


@cache
def vocabulary(name: str) -> tuple[dict[str, str], ...]:
    """Cached, immutable view of a reference table."""
    return tuple(read_csv(name))
