"""Some plans' rows of a Parquet file of the package in place, read from the row groups that hold them.

A refresh compares (``kehoach.versions.comparison``) and links (``kehoach.package.writer``) only the changed
plans' rows of the package in place. A filter on ``plan_id`` decoded every row of every file (one row group a
file: a 1,000-plan package's thirty files cost 0.7 s of CPU a refresh, a 20,000-plan one's, seconds). The
writer writes row groups of ``ROW_GROUP_ROWS`` rows in the order of the CSV twin, whose runs of rows by plan
it records (``csv_file.write_spans``): the row groups holding a plan's runs are known without reading them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kehoach.core.model import Tables
from kehoach.package.constraints import RowScope
from kehoach.package.csv_file import read_span_table
from kehoach.package.layout import csv_spans_path

# Rows a row group of a Parquet file of the package (a plan has hundreds of rows in a table: a changed
# plan's are read with a few thousand others, not with the corpus's)
ROW_GROUP_ROWS = 16_384

Runs = Sequence[tuple[str, int]]  # (plan_id, rows) of each run of one plan's rows, in the file's order


def runs_in_place(out: Path) -> dict[str, Runs]:
    """Each table's runs of rows by plan, as the package in ``out`` recorded them with its CSV files."""
    spans = read_span_table(csv_spans_path(out))
    runs: dict[str, list[tuple[str, int]]] = {}
    for name, plan_id, rows in zip(*(spans.column(c).to_pylist() for c in ("resource", "plan_id", "rows")),
                                   strict=True):
        runs.setdefault(name, []).append((plan_id, rows))
    return runs


def narrowed(tables: Tables, scope: RowScope | None) -> Tables:
    """``tables``, those of the scope with only its plans' rows (the rows a refresh compares, and changes in
    the DuckDB file)."""
    if scope is None:
        return tables
    return {name: of_plans(table.to_reader(), scope.plans) if name in scope.tables else table
            for name, table in tables.items()}


def of_plans(rows: pa.RecordBatchReader, plans: Collection[str]) -> pa.Table:
    """The rows of ``plans`` among ``rows`` (read a batch at a time: a corpus's table is not held), in their
    order."""
    kept = pa.array(sorted(plans), pa.string())
    return pa.Table.from_batches([b.filter(pc.is_in(b.column("plan_id"), kept)) for b in rows], rows.schema)


def read_plans(path: Path, plans: Collection[str], runs: Runs | None = None) -> pa.Table:
    """The rows of ``plans`` in the Parquet file ``path``, in its order. Given the file's ``runs``, only the
    row groups holding those plans' runs are read; without them, or when the file's rows are not those runs
    (another count, a row of another plan where a run says), every row group is read and filtered."""
    parquet = pq.ParquetFile(path)
    chosen = _by_runs(parquet, set(plans), runs) if runs is not None else None
    return of_plans(parquet.read().to_reader(), plans) if chosen is None else chosen


def _by_runs(parquet: pq.ParquetFile, plans: set[str], runs: Runs) -> pa.Table | None:
    meta = parquet.metadata
    if sum(rows for _, rows in runs) != meta.num_rows:
        return None
    sizes = np.array([meta.row_group(i).num_rows for i in range(meta.num_row_groups)], np.int64)
    group_ends = np.cumsum(sizes)
    group_starts = group_ends - sizes
    wanted, first = [], 0
    for plan_id, rows in runs:
        if plan_id in plans and rows:
            wanted.append((plan_id, first, first + rows))
        first += rows
    groups = sorted({int(g) for _, start, end in wanted
                     for g in range(np.searchsorted(group_ends, start, "right"),
                                    np.searchsorted(group_ends, end - 1, "right") + 1)})
    table = parquet.read_row_groups(groups) if groups else parquet.schema_arrow.empty_table()
    # a row's place in the groups read: its place in the file less the rows of the groups skipped before it
    # (the same for the groups a run spans: they are read one after the other)
    read_before = np.concatenate([[0], np.cumsum(sizes[groups])[:-1]]).astype(np.int64)
    skipped = dict(zip(groups, (group_starts[groups] - read_before).tolist(), strict=True))
    indices, names = [], []
    for plan_id, start, end in wanted:
        group = int(np.searchsorted(group_ends, start, "right"))
        indices.append(np.arange(start, end, dtype=np.int64) - skipped[group])
        names += [plan_id] * (end - start)
    chosen = table.take(pa.array(np.concatenate(indices) if indices else np.array([], np.int64)))
    if not chosen.column("plan_id").equals(pa.chunked_array([pa.array(names, pa.string())])):
        return None  # the runs recorded are not this file's rows
    return chosen
