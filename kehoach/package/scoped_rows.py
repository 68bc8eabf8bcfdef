"""What the validation of a refresh reads of a table of its scope (``RowScope``).

A refresh writes the CSV file of an entry table from two kinds of rows (``kehoach.package.writer``):
the changed plans', rendered from the new tables, and the other plans', copied byte for byte from the
file in place, whose sha256 was its descriptor's: that package was validated when it was made, from
the same parse cache entries under the same schemas. The writer records which runs of rows it copied
(``Span.copied``, in ``csv-spans.arrow``); of such a file only the other runs are read and checked cell
by cell, at their row numbers in the whole file (the file's sha256 is still checked against the
descriptor: it vouches for the bytes not read). Keys that cross plans still need every row's key cells:
those of the copied rows are taken from the tables the file was written from, rendered as the file
holds them (``csv_cells``): the bytes copied are the rendering of those very rows (the premise of the
copy; a test compares a refresh with a full rebuild).

A table is read so only when that is provably the same: its primary key holds ``plan_id`` and no field
is unique on its own (a key repeated across plans cannot be), and the writer's spans of the file cover
it, contiguous, plan run by plan run, as the tables' rows are. Otherwise (nothing copied, say: the file
in place had changed) it is read whole.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kehoach.package.csv_file import csv_cells, header, plan_runs, read_span_table
from kehoach.package.layout import csv_spans_path


@dataclass(frozen=True)
class ScopedRows:
    """Of the CSV file ``path`` (written from ``table``), the runs of rows not copied from the file in place
    (``read``: byte start, bytes, row number of the first row, rows; the header is row 1)."""

    path: Path
    header: bytes
    read: list[tuple[int, int, int, int]]
    table: pa.Table
    unread: pa.Array  # of the table's rows, those not in ``read`` (true): copied from the file in place
    unread_plans: frozenset[str]  # the plans of those rows
    unread_runs: pa.Table  # their runs: the row number of the first (_row), rows (_n), plan_id

    def extract(self, target: Path) -> pa.Table:
        """Write to ``target`` the header and the rows read, as a CSV file; where its rows are in
        the whole file (extract_first, extract_last: numbered from 1 after the header; first_row)."""
        firsts, lasts, rows_at = [], [], []
        done = 0
        with self.path.open("rb") as source, target.open("wb") as handle:
            handle.write(self.header)
            for start, length, first_row, rows in self.read:
                source.seek(start)
                handle.write(source.read(length))
                firsts.append(done + 1)
                lasts.append(done + rows)
                rows_at.append(first_row)
                done += rows
        return pa.table({"extract_first": pa.array(firsts, pa.int64()), "extract_last": pa.array(lasts, pa.int64()),
                         "first_row": pa.array(rows_at, pa.int64())})

    def unread_cells(self, columns: Collection[str]) -> pa.Table:
        """The rows not read: their row number (``_row``) and ``columns``' cells as the file holds
        them, an empty cell as NULL (as DuckDB's reader gives it)."""
        rows = pc.filter(pa.array(np.arange(2, self.table.num_rows + 2, dtype=np.int64)), self.unread)
        cells = {}
        for name in columns:  # a column at a time: the others are not rendered
            text = csv_cells(pc.filter(self.table.column(name), self.unread).combine_chunks())
            cells[name] = pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)
        return pa.table({"_row": rows, **cells})


def read_in_part(directory: Path, resources: list[dict], tables: Mapping[str, pa.Table]) -> dict[str, ScopedRows]:
    """Of the CSV ``resources`` of the package in ``directory``, written from ``tables``, those read in part."""
    spans = read_span_table(csv_spans_path(directory))
    found = {r["name"]: scoped_rows(directory / r["path"], r["schema"], tables[r["name"]],
                                    spans.filter(pc.equal(spans.column("resource"), r["name"])))
             for r in resources if r["name"] in tables}
    return {name: rows for name, rows in found.items() if rows is not None}


def scoped_rows(path: Path, schema: dict, table: pa.Table, spans: pa.Table) -> ScopedRows | None:
    """Of the CSV file ``path`` written from ``table``, whose runs of rows are ``spans`` (``read_span_table``'s
    rows of that file), the rows not copied from the file in place; None: the whole file is to be read."""
    fields = schema["fields"]
    if "plan_id" not in schema.get("primaryKey", []) or any(f.get("constraints", {}).get("unique") for f in fields):
        return None
    top = header([f["name"] for f in fields])
    if not _covers(spans, len(top), path.stat().st_size, table):
        return None
    rows = spans.column("rows").to_numpy()
    first_rows = np.cumsum(rows) - rows + 2  # the header is row 1
    plan_ids = spans.column("plan_id")
    # a row without a plan is never taken as unchanged, nor a plan any of whose rows were rendered (its key
    # cells would be compared with its own copied rows)
    rendered = pc.filter(plan_ids, pc.invert(spans.column("copied")))
    copied = pc.and_(pc.and_(spans.column("copied"), pc.is_valid(plan_ids)),
                     pc.invert(pc.is_in(plan_ids, rendered))).to_numpy(zero_copy_only=False)
    if not copied.any():
        return None  # every row rendered: read whole
    starts, lengths = spans.column("start").to_numpy(), spans.column("length").to_numpy()
    read = [(int(starts[i]), int(lengths[i]), int(first_rows[i]), int(rows[i])) for i in np.flatnonzero(~copied)]
    plans = pa.array(spans.column("plan_id").to_numpy(zero_copy_only=False)[copied], pa.string())
    runs = pa.table({"_row": pa.array(first_rows[copied], pa.int64()), "_n": pa.array(rows[copied], pa.int64()),
                     "plan_id": plans})
    return ScopedRows(path, top, read, table, pa.array(np.repeat(copied, rows)), frozenset(plans.to_pylist()), runs)


def within_plans(fields: list[str], target_fields: list[str], rows: ScopedRows | None,
                 target: ScopedRows | None) -> bool:
    """A foreign key from the ``fields`` of a table read in part (``rows``) to the ``target_fields`` of one
    (``target``), from a plan's rows to the same plan's: the rows not read (copied) point where they did in
    the package in place, at rows copied too; only the rows read are to be checked (against those read)."""
    return (rows is not None and target is not None and "plan_id" in fields and len(fields) == len(target_fields)
            and target_fields[fields.index("plan_id")] == "plan_id"
            # the plans whose rows were not read are those of the target's rows not read
            and rows.unread_plans <= target.unread_plans)


def _covers(spans: pa.Table, start: int, size: int, table: pa.Table) -> bool:
    """The spans are the file's rows after its header, without a gap, and the runs of the table's plans."""
    starts, lengths = spans.column("start").to_numpy(), spans.column("length").to_numpy()
    ends = start + np.cumsum(lengths)
    if len(starts) and (starts[0] != start or (starts[1:] != ends[:-1]).any()):
        return False
    runs = plan_runs(table.to_batches())
    return (int(ends[-1]) if len(ends) else start) == size and [p for p, _, _ in runs] == spans.column(
        "plan_id").to_pylist() and [rows for _, _, rows in runs] == spans.column("rows").to_pylist()
