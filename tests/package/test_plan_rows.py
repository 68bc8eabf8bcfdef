"""Some plans' rows of a Parquet file read from the row groups that hold them (``kehoach.package.plan_rows``)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kehoach.package import writer
from kehoach.package.plan_rows import read_plans

# plans in an order of their own (not sorted: a row group's statistics would not narrow the read), runs of
# several sizes, one plan in two runs
RUNS = [("p-9", 5), ("p-1", 7), ("p-5", 1), ("p-3", 9), ("p-7", 4), ("p-1", 2)]


def _written(path, row_group_size: int) -> pa.Table:
    table = pa.table({"plan_id": [p for p, rows in RUNS for _ in range(rows)],
                      "n": list(range(sum(rows for _, rows in RUNS)))})
    pq.write_table(table, path, row_group_size=row_group_size)
    return table


def _filtered(table: pa.Table, plans: set[str]) -> pa.Table:
    return table.filter(pc.is_in(table.column("plan_id"), pa.array(sorted(plans), pa.string())))


def test_the_rows_of_some_plans_are_those_a_filter_gives(tmp_path):
    path = tmp_path / "t.parquet"
    table = _written(path, 4)  # runs across row groups, groups holding several runs
    for plans in [{"p-3"}, {"p-1"}, {"p-5", "p-7"}, {"p-9", "p-1", "p-3"}, {"gone"}, set()]:
        assert read_plans(path, plans, RUNS).equals(_filtered(table, plans)), plans


def test_only_the_row_groups_holding_the_plans_are_read(tmp_path, monkeypatch):
    path = tmp_path / "t.parquet"
    _written(path, 4)
    read: list[list[int]] = []
    original = pq.ParquetFile.read_row_groups
    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", lambda self, groups, *a, **k: (
        read.append(list(groups)), original(self, groups, *a, **k))[1])
    # p-3: rows 13..21, in groups 3 (rows 12-15), 4 and 5 (rows 20-23)
    assert read_plans(path, {"p-3"}, RUNS).column("n").to_pylist() == list(range(13, 22))
    assert read == [[3, 4, 5]]


def test_runs_that_are_not_the_files_rows_are_not_trusted(tmp_path):
    path = tmp_path / "t.parquet"
    table = _written(path, 4)
    shifted = [("p-9", 4), ("p-1", 8), *RUNS[2:]]  # the same count of rows, a run a row off
    assert read_plans(path, {"p-1"}, shifted).equals(_filtered(table, {"p-1"}))
    assert read_plans(path, {"p-1"}, RUNS[:-1]).equals(_filtered(table, {"p-1"}))  # rows no run accounts for
    assert read_plans(path, {"p-1"}, None).equals(_filtered(table, {"p-1"}))


def test_a_parquet_file_is_the_same_bytes_whatever_the_batches_it_was_read_in(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "ROW_GROUP_ROWS", 3)
    table = pa.table({"plan_id": list("aabbbcc"), "row": list(range(7))})
    written = []
    for sizes in [(7,), (1,) * 7, (2, 0, 5), (4, 3)]:
        batches, start = [], 0
        for size in sizes:
            batches.append(table.slice(start, size).combine_chunks().to_batches()[0] if size else
                           pa.RecordBatch.from_pylist([], schema=table.schema))
            start += size
        path = tmp_path / f"{len(written)}.parquet"
        writer.write_parquet(pa.RecordBatchReader.from_batches(table.schema, iter(batches)), path)
        written.append(path.read_bytes())
        parquet = pq.ParquetFile(path)
        assert [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)] == [3, 3, 1]
        assert parquet.read().equals(table)
    assert len(set(written)) == 1
    writer.write_parquet(table.schema.empty_table().to_reader(), tmp_path / "empty.parquet")
    assert pq.ParquetFile(tmp_path / "empty.parquet").read().num_rows == 0
