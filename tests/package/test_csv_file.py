"""A table's CSV file written with the unchanged plans' rows copied from the file in place
(``kehoach.package.csv_file.Reused``) is the very bytes of one written whole."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest

from kehoach.package import csv_file
from kehoach.package.csv_file import Reused, plan_runs, read_spans, write_csv, write_spans

SCHEMA = pa.schema([("plan_id", pa.string()), ("row", pa.int64()), ("amount", pa.decimal128(20, 6)),
                    ("text", pa.string())])


def _table(rows: list[tuple]) -> pa.Table:
    return pa.Table.from_pylist([dict(zip(SCHEMA.names, r, strict=True)) for r in rows], schema=SCHEMA)


A = [("a", 1, Decimal("1.500000"), "Hội nghị, hội thảo"),  # quoted: a comma
     ("a", 2, None, 'mục "b"\ndòng hai')]  # a quote and a line end inside a cell
C = [("c", 1, Decimal("0.25"), ""), ("c", 2, Decimal("3"), "Sở Tài chính")]
BEFORE = _table([*A, ("b", 1, Decimal("720"), "-"), *C])
# plan b amended (its amount doubled, a row added), plan d added, plans a and c unchanged
AFTER = _table([*A, ("b", 1, Decimal("1440"), "-"), ("b", 2, Decimal("1"), "mới"), *C, ("d", 1, None, "x")])


@pytest.fixture()
def rendered(monkeypatch) -> list[int]:
    """The rows each rendering wrote (the rest were copied)."""
    seen: list[int] = []
    real = csv_file._render

    def recording(batches, handle, runs):
        batches = list(batches)
        if batches:  # the rows left at the end, when there are none, are not a rendering
            seen.append(sum(b.num_rows for b in batches))
        return real(batches, handle, runs)
    monkeypatch.setattr(csv_file, "_render", recording)
    return seen


def test_the_unchanged_plans_rows_are_copied_and_the_file_is_the_one_written_whole(tmp_path, rendered):
    old, whole, spliced = tmp_path / "old.csv", tmp_path / "whole.csv", tmp_path / "spliced.csv"
    spans = write_csv(BEFORE.to_reader, old)
    assert [(s.plan_id, s.rows) for s in spans] == [("a", 2), ("b", 1), ("c", 2)]
    data = old.read_bytes()
    assert [data[s.start:s.start + s.length] for s in spans][1] == b"b,1,720,-\n"
    write_spans(tmp_path / "spans.arrow", {"t": spans})
    in_place = read_spans(tmp_path / "spans.arrow")["t"]
    assert in_place == {s.plan_id: s for s in spans}

    whole_spans = write_csv(AFTER.to_reader, whole)
    rendered.clear()
    spliced_spans = write_csv(AFTER.to_reader, spliced, Reused(old, in_place, frozenset({"b", "d"})))
    assert spliced.read_bytes() == whole.read_bytes()
    assert spliced_spans == whole_spans  # the next refresh copies from this file as well
    assert rendered == [2, 1]  # plan b's rows, then plan d's; a's and c's copied
    # a plan whose row count differs from its span is rendered, whatever it is said to be
    rendered.clear()
    write_csv(AFTER.to_reader, spliced, Reused(old, in_place, frozenset()))
    assert spliced.read_bytes() == whole.read_bytes() and rendered == [2, 1]


def test_spans_of_another_renderer_or_of_a_plan_in_two_runs_are_not_used(tmp_path, monkeypatch):
    table = _table([("a", 1, None, "x"), ("b", 1, None, "y"), ("a", 2, None, "z")])
    assert plan_runs(table.to_batches()) == [("a", 0, 1), ("b", 1, 1), ("a", 2, 1)]
    write_spans(tmp_path / "spans.arrow", {"t": write_csv(table.to_reader, tmp_path / "t.csv")})
    assert set(read_spans(tmp_path / "spans.arrow")["t"]) == {"b"}
    monkeypatch.setattr(csv_file, "RENDERER", "another")
    assert read_spans(tmp_path / "spans.arrow") == {}
    assert read_spans(tmp_path / "missing.arrow") == {}


def test_a_table_whose_file_would_be_the_file_in_place_is_known_without_writing_it(tmp_path):
    old = tmp_path / "old.csv"
    spans = {s.plan_id: s for s in write_csv(BEFORE.to_reader, old)}
    # plan b said to have changed, but its row renders to the bytes it has in place: the file is the same
    same = csv_file.as_in_place(BEFORE.to_reader, Reused(old, spans, frozenset({"b"})))
    assert [(s.plan_id, s.start, s.length, s.copied) for s in same] == [
        (s.plan_id, s.start, s.length, True) for s in spans.values()]
    # its amount changed (the same number of rows), or a plan added, or the plans in another order: not the same
    amended = _table([*A, ("b", 1, Decimal("1440"), "-"), *C])
    assert csv_file.as_in_place(amended.to_reader, Reused(old, spans, frozenset({"b"}))) is None
    assert csv_file.as_in_place(AFTER.to_reader, Reused(old, spans, frozenset({"b", "d"}))) is None
    assert csv_file.as_in_place(_table([*C, ("b", 1, Decimal("720"), "-"), *A]).to_reader,
                                Reused(old, spans, frozenset({"b"}))) is None
    # bytes in place that no span accounts for: not the same
    old.write_bytes(old.read_bytes() + b"x,9,,\n")
    assert csv_file.as_in_place(BEFORE.to_reader, Reused(old, spans, frozenset({"b"}))) is None



def _in_batches(table: pa.Table, *sizes: int):
    """``table.to_reader`` of ``table`` read in record batches of ``sizes`` rows (0: a batch of no rows)."""
    batches, start = [], 0
    for size in sizes:
        batches.append(pa.RecordBatch.from_pylist(table.slice(start, size).to_pylist(), schema=SCHEMA))
        start += size
    assert start == table.num_rows
    return lambda: pa.RecordBatchReader.from_batches(SCHEMA, iter(batches))


def test_a_table_read_in_other_batches_is_written_the_same(tmp_path):
    """A plan's run across batches, a batch of no rows: the same runs, bytes and spans, rendered or copied."""
    old, whole, out = tmp_path / "old.csv", tmp_path / "whole.csv", tmp_path / "out.csv"
    in_place = {s.plan_id: s for s in write_csv(BEFORE.to_reader, old)}
    expected = write_csv(AFTER.to_reader, whole)
    for sizes in [(1,) * AFTER.num_rows, (3, 0, 4), (2, 1, 1, 3)]:
        read = _in_batches(AFTER, *sizes)
        assert plan_runs(read()) == plan_runs(AFTER.to_batches()) == [("a", 0, 2), ("b", 2, 2), ("c", 4, 2),
                                                                       ("d", 6, 1)]
        for reused in (None, Reused(old, in_place, frozenset({"b", "d"}))):
            assert write_csv(read, out, reused) == expected and out.read_bytes() == whole.read_bytes()
    assert csv_file.as_in_place(_in_batches(BEFORE, 1, 2, 0, 2), Reused(old, in_place, frozenset({"b"})))
    # rows without a plan are a run each, on either side of a batch's end
    nulls = _table([("a", 1, None, "x"), (None, 2, None, "y"), (None, 3, None, "z"), ("a", 4, None, "w")])
    assert plan_runs(_in_batches(nulls, 2, 2)()) == plan_runs(nulls.to_batches()) == [
        ("a", 0, 1), (None, 1, 1), (None, 2, 1), ("a", 3, 1)]
