"""The CSV files of a package: UTF-8, a header row, '\\n' line ends, an empty
cell for no value, quoted only where needed. The bytes are those Python's
``csv.writer`` (QUOTE_MINIMAL) writes for the cells ``csv_value`` renders;
Arrow assembles them a column at a time, since a Python call per cell cost
more than everything else in staging a corpus.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Rows rendered at a time: a batch's text is held, never a table's.
BATCH_ROWS = 65536


def csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "") else text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def write_csv(table: pa.Table, path: Path) -> None:
    """UTF-8 CSV, header row, '\\n' line ends; empty cell = no value."""
    with path.open("wb") as handle:
        for chunk in csv_bytes(table.column_names, table.to_batches(max_chunksize=BATCH_ROWS)):
            handle.write(chunk)


def csv_sha256(names: list[str], batches: Iterable[pa.RecordBatch]) -> str:
    """sha256 of the CSV ``write_csv`` would write of the table of ``names`` and ``batches``, without
    writing it (the batches read one at a time: a Parquet file's, say)."""
    digest = hashlib.sha256()
    for chunk in csv_bytes(names, batches):
        digest.update(chunk)
    return digest.hexdigest()


def csv_bytes(names: list[str], batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """The CSV file of the table of columns ``names`` and rows ``batches``: its header, then its rows
    a batch at a time (one table's text is never all in memory)."""
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(names)
    yield header.getvalue().encode("utf-8")
    for batch in batches:
        if batch.num_rows:
            yield _csv_lines(batch) if batch.num_columns > 1 else _csv_lines_by_python(batch)


def _csv_lines(batch: pa.RecordBatch) -> bytes:
    """The rows as ``csv.writer`` writes them (QUOTE_MINIMAL, '\\n' line ends),
    assembled by Arrow: Python's writer costs more than everything else in
    staging a corpus. (A one-column row holding only "" is written '""' by
    Python's writer: such tables take ``_csv_lines_by_python``.)"""
    cells = [_quoted(csv_cells(batch.column(i))) for i in range(batch.num_columns)]
    text = functools.partial(pa.scalar, type=pa.large_string())
    lines = pc.binary_join_element_wise(*cells, text(","))
    # 'a,b' and '' joined by '\\n': each line with its line end, one buffer for them all
    lines = pc.binary_join_element_wise(lines, text(""), text("\n"))
    _, offsets, data = lines.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int64)[[lines.offset, lines.offset + len(lines)]]
    return data.to_pybytes()[bounds[0]:bounds[1]]


def _csv_lines_by_python(batch: pa.RecordBatch) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(
        zip(*(csv_cells(batch.column(i)).to_pylist() for i in range(batch.num_columns)), strict=True))
    return out.getvalue().encode("utf-8")


def _quoted(cells: pa.Array) -> pa.Array:
    """Quote what ``csv.writer`` (QUOTE_MINIMAL, '\\n' line ends) quotes: a cell
    holding the delimiter, a quote or the line end (a lone '\\r' it leaves bare)."""
    needs = pc.match_substring_regex(cells, r'[",\n]')
    if not pc.any(needs).as_py():
        return cells
    doubled = pc.replace_substring(cells, '"', '""')
    quote, nothing = pa.scalar('"', pa.large_string()), pa.scalar("", pa.large_string())
    return pc.if_else(needs, pc.binary_join_element_wise(quote, doubled, quote, nothing), cells)


def csv_cells(column: pa.Array) -> pa.Array:
    """The column's cells as ``csv_value`` writes them (large strings, no nulls),
    converted by Arrow a column at a time where the text is the same."""
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = column
    elif pa.types.is_decimal(kind):
        # Decimal.normalize() in 'f' format: no trailing zeros, no bare point
        text = pc.replace_substring_regex(pc.cast(column, pa.string()), r"(\.\d*?)0+$|\.$", r"\1")
        text = pc.replace_substring_regex(text, r"\.$", "")
    elif pa.types.is_integer(kind) or pa.types.is_boolean(kind) or pa.types.is_date32(kind):
        text = pc.cast(column, pa.string())
    else:
        text = pa.array([csv_value(v) for v in column.to_pylist()], pa.string())
    return pc.fill_null(pc.cast(text, pa.large_string()), "")
