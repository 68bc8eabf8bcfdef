"""The CSV files of a package: UTF-8, a header row, '\\n' line ends, an empty
cell for no value, quoted only where needed. The bytes are those Python's
``csv.writer`` (QUOTE_MINIMAL) writes for the cells ``csv_value`` renders;
Arrow assembles them a column at a time, since a Python call per cell cost
more than everything else in staging a corpus.

A row's bytes depend on that row alone, so a refresh in which one plan of a corpus changed
copies the other plans' rows from the CSV file in place (``Reused``) and renders that plan's:
the file is the very bytes a full rebuild writes (a test compares). Where each plan's rows are
in a file (``Span``: its run of rows and bytes) is recorded beside the package in its state
folder (``write_spans``), with a fingerprint of this renderer: rows rendered by other code are
never copied.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Rows rendered at a time: a batch's text is held, never a table's.
BATCH_ROWS = 65536
# What the bytes of a row depend on besides the row: this module and Arrow's casts.
RENDERER = hashlib.sha256(Path(__file__).read_bytes() + pa.__version__.encode()).hexdigest()
_SPAN_SCHEMA = pa.schema([("resource", pa.string()), ("plan_id", pa.string()), ("start", pa.int64()),
                          ("length", pa.int64()), ("rows", pa.int64()), ("copied", pa.bool_())])
# Bytes copied from the file in place at a time.
_COPY_BYTES = 1 << 20


@dataclass(frozen=True)
class Span:
    """A plan's run of rows in a CSV file: its first byte, its bytes and its rows."""

    plan_id: str
    start: int
    length: int
    rows: int
    # copied from the file in place, not rendered: where the bytes came from, not where they are
    copied: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Reused:
    """The CSV file in place (``path``) of a table, where each plan's rows are in it (``spans``),
    and the plans whose rows may differ from it (``changed``): the other plans' rows are copied."""

    path: Path
    spans: Mapping[str, Span]
    changed: Collection[str]

    def span(self, plan_id: str, rows: int) -> Span | None:
        """Where the unchanged rows of ``plan_id`` are in the file in place (None: render them)."""
        span = self.spans.get(plan_id)
        return span if span is not None and span.rows == rows and plan_id not in self.changed else None


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


class _Hashed:
    """A file being written, and the sha256 of the bytes written to it: the file's hash without reading it back."""

    def __init__(self, handle: io.BufferedWriter, digest: Any) -> None:
        self.handle, self.digest = handle, digest

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.handle.write(data)

    def tell(self) -> int:
        return self.handle.tell()


# A table's rows read through from the start at each call: ``table.to_reader`` of a table held, or
# ``kehoach.core.model.record_batches`` of a corpus's table, whose batches are mapped one at a time.
Reading = Callable[[], pa.RecordBatchReader]


def write_csv(read: Reading, path: Path, reused: Reused | None = None, digest: Any = None) -> list[Span]:
    """UTF-8 CSV, header row, '\\n' line ends; empty cell = no value. The rows of the plans ``reused``
    allows are copied from the file in place, the others rendered; where each plan's rows went (``Span.copied``).
    ``digest`` (a ``hashlib`` object) is given every byte written. The rows are read twice, a batch at a time:
    their plans' runs, then their cells."""
    runs = plan_runs(read())
    rows = RowCursor(read())
    spans: list[Span] = []
    with path.open("wb") as opened, (reused.path.open("rb") if reused else io.BytesIO()) as old:
        handle = _Hashed(opened, digest) if digest is not None else opened
        handle.write(header(rows.names))
        pending = 0  # the first run not written yet
        for i, (plan_id, row, count) in enumerate([*runs, ("", None, 0)]):
            span = reused.span(plan_id, count) if reused and count else None
            if span is None and count:
                continue  # rendered with the rows before the next copied run
            if row is None or row > rows.row:  # the rows before this run (at the end: those left)
                spans += _render(rows.take(None if row is None else row - rows.row), handle, runs[pending:i])
            pending = i + 1
            if span is not None:
                spans.append(Span(plan_id, handle.tell(), span.length, count, copied=True))
                rows.skip(count)
                old.seek(span.start)
                _copy(old, handle, span.length)
    return spans


def as_in_place(read: Reading, reused: Reused) -> list[Span] | None:
    """The spans of the file in place when the CSV file of the table ``read`` gives would be its very bytes (an
    amended plan leaves most of its tables as they were: such a file is linked, not written again): the same
    header, the same plans' runs of rows in the same order, and the changed plans' rows rendering to the
    bytes they have there. None: the file must be written."""
    runs, rows = plan_runs(read()), RowCursor(read())
    heading = header(rows.names)
    before = sorted(reused.spans.values(), key=lambda s: s.start)
    if [(plan_id, count) for plan_id, _, count in runs] != [(s.plan_id, s.rows) for s in before]:
        return None
    ends = [len(heading), *(s.start + s.length for s in before)]
    if [s.start for s in before] != ends[:-1] or reused.path.stat().st_size != ends[-1]:
        return None  # rows in place that no span accounts for
    with reused.path.open("rb") as old:
        if old.read(len(heading)) != heading:
            return None
        for plan_id, row, count in runs:
            if plan_id in reused.changed:
                rendered, span = io.BytesIO(), reused.spans[plan_id]
                rows.skip(row - rows.row)
                _render(rows.take(count), rendered, [])
                old.seek(span.start)
                if old.read(span.length) != rendered.getvalue():
                    return None
    return [Span(s.plan_id, s.start, s.length, s.rows, copied=True) for s in before]


def plan_runs(batches: Iterable[pa.RecordBatch]) -> list[tuple[str, int, int]]:
    """(plan_id, first row, rows) of each run of one plan's rows of the table of ``batches`` (a table held:
    ``table.to_batches()``); none for a table without plans. Only the ``plan_id`` column is read."""
    runs: list[tuple[str, int, int]] = []
    first = 0  # the batch's first row in the table
    for batch in batches:
        if "plan_id" not in batch.schema.names:
            return []
        for plan_id, start, rows in _runs_in(batch.column("plan_id")):
            last = runs[-1] if runs else None
            if start == 0 and last is not None and plan_id is not None and last[0] == plan_id:
                runs[-1] = (plan_id, last[1], last[2] + rows)  # the run goes on from the batch before
            else:
                runs.append((plan_id, first + start, rows))
        first += batch.num_rows
    return runs


def _runs_in(plans: pa.Array) -> list[tuple[str, int, int]]:
    if not len(plans):
        return []
    differs = pc.fill_null(pc.not_equal(plans[1:], plans[:-1]), True)  # a row without a plan is a run
    starts = [0, *(np.flatnonzero(differs.to_numpy(zero_copy_only=False)) + 1).tolist()]
    ends = [*starts[1:], len(plans)]
    names = plans.take(pa.array(starts, pa.int64())).to_pylist()
    return [(plan_id, s, e - s) for plan_id, s, e in zip(names, starts, ends, strict=True)]


class RowCursor:
    """A table's rows, read in order from a stream of record batches: one batch held at a time."""

    def __init__(self, batches: pa.RecordBatchReader) -> None:
        self.names = batches.schema.names
        self.batches = iter(batches)
        self.batch: pa.RecordBatch | None = None
        self.at = 0  # the next row of ``batch``
        self.row = 0  # the next row of the table

    def take(self, rows: int | None) -> Iterator[pa.RecordBatch]:
        """The next ``rows`` rows (None: every row left), at most ``BATCH_ROWS`` at a time."""
        while rows is None or rows > 0:
            if self.batch is None or self.at == self.batch.num_rows:
                self.batch, self.at = next(self.batches, None), 0
                if self.batch is None and rows is None:
                    return
                if self.batch is None:
                    raise ValueError(f"{rows} rows fewer than the table's runs count")
                continue
            count = min(self.batch.num_rows - self.at, BATCH_ROWS, BATCH_ROWS if rows is None else rows)
            yield self.batch.slice(self.at, count)
            self.at, self.row = self.at + count, self.row + count
            rows = None if rows is None else rows - count

    def skip(self, rows: int) -> None:
        for _ in self.take(rows):
            pass


def _render(batches: Iterable[pa.RecordBatch], handle, runs: list[tuple[str, int, int]]) -> list[Span]:
    """Write the rows of ``batches`` (the rows of ``runs``, numbered in the whole table); their spans."""
    begin, ends = handle.tell(), []
    for batch in batches:
        if batch.num_rows:
            data, row_ends = _csv_lines_and_ends(batch)
            ends.append(row_ends + handle.tell())
            handle.write(data)
    if not runs:
        return []
    row_ends, offset = np.concatenate(ends), runs[0][1]
    spans = []
    for plan_id, row, rows in runs:
        start = begin if row == offset else int(row_ends[row - offset - 1])
        spans.append(Span(plan_id, start, int(row_ends[row - offset + rows - 1]) - start, rows))
    return spans


def _copy(source, target, length: int) -> None:
    while length > 0:
        chunk = source.read(min(length, _COPY_BYTES))
        if not chunk:
            raise OSError(f"{source.name}: shorter than its recorded rows")
        target.write(chunk)
        length -= len(chunk)


def write_spans(path: Path, spans: Mapping[str, list[Span]]) -> None:
    """Where each table's plans are in its CSV file (``Reused``), with the renderer that wrote them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [(name, s.plan_id, s.start, s.length, s.rows, s.copied) for name, table_spans in spans.items()
            for s in table_spans]
    columns = [pa.array(list(c), f.type) for c, f in zip(zip(*rows, strict=True) if rows else [[]] * len(_SPAN_SCHEMA),
                                                         _SPAN_SCHEMA, strict=True)]
    table = pa.Table.from_arrays(columns, schema=_SPAN_SCHEMA.with_metadata({"renderer": RENDERER}))
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def read_spans(path: Path) -> dict[str, dict[str, Span]]:
    """The spans ``write_spans`` recorded, by table and plan; none when another renderer wrote them
    (or there are none)."""
    runs: dict[str, list[Span]] = {}
    table = read_span_table(path)
    for name, plan_id, start, length, rows in zip(*(table.column(c).to_pylist() for c in _SPAN_SCHEMA.names[:5]),
                                                 strict=True):
        runs.setdefault(name, []).append(Span(plan_id, start, length, rows))
    spans: dict[str, dict[str, Span]] = {}
    for name, table_runs in runs.items():
        count = Counter(s.plan_id for s in table_runs)
        # a plan's rows in two runs are not one span to copy: rendered
        spans[name] = {s.plan_id: s for s in table_runs if count[s.plan_id] == 1}
    return spans


def read_span_table(path: Path) -> pa.Table:
    """The spans ``write_spans`` recorded (resource, plan_id, start, length, rows, copied), each table's in the
    order of its file's rows; none when another renderer wrote them (or there are none)."""
    try:
        with pa.memory_map(str(path)) as source:
            table = pa.ipc.open_file(source).read_all()
    except (FileNotFoundError, pa.ArrowInvalid):
        return _SPAN_SCHEMA.empty_table()
    if (table.schema.metadata or {}).get(b"renderer") != RENDERER.encode():
        return _SPAN_SCHEMA.empty_table()
    return table


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
    yield header(names)
    for batch in batches:
        if batch.num_rows:
            yield _csv_lines_and_ends(batch)[0]


def header(names: list[str]) -> bytes:
    """The header row of a CSV file of the columns ``names``."""
    row = io.StringIO()
    csv.writer(row, lineterminator="\n").writerow(names)
    return row.getvalue().encode("utf-8")


def _csv_lines_and_ends(batch: pa.RecordBatch) -> tuple[bytes, np.ndarray]:
    """The rows' bytes, and where each row ends in them."""
    return _csv_lines(batch) if batch.num_columns > 1 else _csv_lines_by_python(batch)


def _csv_lines(batch: pa.RecordBatch) -> tuple[bytes, np.ndarray]:
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
    bounds = np.frombuffer(offsets, dtype=np.int64)[lines.offset:lines.offset + len(lines) + 1]
    return data.to_pybytes()[bounds[0]:bounds[-1]], bounds[1:] - bounds[0]


def _csv_lines_by_python(batch: pa.RecordBatch) -> tuple[bytes, np.ndarray]:
    rows = []
    for row in zip(*(csv_cells(batch.column(i)).to_pylist() for i in range(batch.num_columns)), strict=True):
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(row)
        rows.append(out.getvalue().encode("utf-8"))
    return b"".join(rows), np.cumsum([len(r) for r in rows], dtype=np.int64)


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
