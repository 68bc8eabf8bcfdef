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

    def recording(table, handle, runs):
        seen.append(table.num_rows)
        return real(table, handle, runs)
    monkeypatch.setattr(csv_file, "_render", recording)
    return seen


def test_the_unchanged_plans_rows_are_copied_and_the_file_is_the_one_written_whole(tmp_path, rendered):
    old, whole, spliced = tmp_path / "old.csv", tmp_path / "whole.csv", tmp_path / "spliced.csv"
    spans = write_csv(BEFORE, old)
    assert [(s.plan_id, s.rows) for s in spans] == [("a", 2), ("b", 1), ("c", 2)]
    data = old.read_bytes()
    assert [data[s.start:s.start + s.length] for s in spans][1] == b"b,1,720,-\n"
    write_spans(tmp_path / "spans.arrow", {"t": spans})
    in_place = read_spans(tmp_path / "spans.arrow")["t"]
    assert in_place == {s.plan_id: s for s in spans}

    whole_spans = write_csv(AFTER, whole)
    rendered.clear()
    spliced_spans = write_csv(AFTER, spliced, Reused(old, in_place, frozenset({"b", "d"})))
    assert spliced.read_bytes() == whole.read_bytes()
    assert spliced_spans == whole_spans  # the next refresh copies from this file as well
    assert rendered == [2, 1]  # plan b's rows, then plan d's; a's and c's copied
    # a plan whose row count differs from its span is rendered, whatever it is said to be
    rendered.clear()
    write_csv(AFTER, spliced, Reused(old, in_place, frozenset()))
    assert spliced.read_bytes() == whole.read_bytes() and rendered == [2, 1]


def test_spans_of_another_renderer_or_of_a_plan_in_two_runs_are_not_used(tmp_path, monkeypatch):
    table = _table([("a", 1, None, "x"), ("b", 1, None, "y"), ("a", 2, None, "z")])
    assert plan_runs(table) == [("a", 0, 1), ("b", 1, 1), ("a", 2, 1)]
    write_spans(tmp_path / "spans.arrow", {"t": write_csv(table, tmp_path / "t.csv")})
    assert set(read_spans(tmp_path / "spans.arrow")["t"]) == {"b"}
    monkeypatch.setattr(csv_file, "RENDERER", "another")
    assert read_spans(tmp_path / "spans.arrow") == {}
    assert read_spans(tmp_path / "missing.arrow") == {}


def test_a_table_whose_file_would_be_the_file_in_place_is_known_without_writing_it(tmp_path):
    old = tmp_path / "old.csv"
    spans = {s.plan_id: s for s in write_csv(BEFORE, old)}
    # plan b said to have changed, but its row renders to the bytes it has in place: the file is the same
    same = csv_file.as_in_place(BEFORE, Reused(old, spans, frozenset({"b"})))
    assert [(s.plan_id, s.start, s.length, s.copied) for s in same] == [
        (s.plan_id, s.start, s.length, True) for s in spans.values()]
    # its amount changed (the same number of rows), or a plan added, or the plans in another order: not the same
    amended = _table([*A, ("b", 1, Decimal("1440"), "-"), *C])
    assert csv_file.as_in_place(amended, Reused(old, spans, frozenset({"b"}))) is None
    assert csv_file.as_in_place(AFTER, Reused(old, spans, frozenset({"b", "d"}))) is None
    assert csv_file.as_in_place(_table([*C, ("b", 1, Decimal("720"), "-"), *A]),
                                Reused(old, spans, frozenset({"b"}))) is None
    # bytes in place that no span accounts for: not the same
    old.write_bytes(old.read_bytes() + b"x,9,,\n")
    assert csv_file.as_in_place(BEFORE, Reused(old, spans, frozenset({"b"}))) is None
