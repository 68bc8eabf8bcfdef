"""The validation of a refresh reads, of the tables of its scope, only the changed plans' rows of
their CSV files (``kehoach.package.scoped_rows``), and finds what the validation of every row finds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from corpus import amend, write_corpus
from helpers import PLAN_FILE

from kehoach import build
from kehoach.core.errors import KehoachError
from kehoach.package.constraints import RowScope, check_csv_resources
from kehoach.package.csv_file import Reused, read_span_table, write_csv, write_spans
from kehoach.package.layout import RecordedFiles, csv_path, csv_spans_path, read_descriptor
from kehoach.package.scoped_rows import scoped_rows
from kehoach.package.validate import unchanged_tables

UNVALIDATED = build.Steps(validate=lambda *args: None)
MISSING = "không-có"


class Staged(Exception):
    """Stops a refresh once its package is staged (nothing swapped in)."""


@pytest.fixture(scope="module")
def refreshed_corpus(tmp_path_factory) -> tuple[Path, Path]:
    """A 2-plan package built, then the second plan amended (not yet refreshed)."""
    root = tmp_path_factory.mktemp("scoped")
    plans, out = root / "plans", root / "out"
    write_corpus(PLAN_FILE, plans, 2)
    build.run_build([plans], out, steps=UNVALIDATED)
    amend(plans / "plan-00001.txt")
    return plans, out


def _stage(corpus: tuple[Path, Path], tmp_path: Path, broken=lambda tables, plan: tables, edited=()):
    """Refresh a copy of the package until its staged package is validated: (staged folder, the tables
    it was written from, the sources, the refresh's scope), ``broken`` first applied to the tables; the
    CSV files of the tables ``edited`` changed in place first (an unchanged plan's row, by hand)."""
    plans, out = corpus
    shutil.copytree(out, tmp_path / "out")
    for name in edited:
        _change_a_byte(tmp_path / "out" / csv_path(name), lambda line: True)
    written, staged = [], []

    def stage(tables, sources, out, comparison):
        (changed,) = comparison.scope.plans
        written.append(broken(tables, changed))
        return build.stage(written[0], sources, out, comparison)

    def validate(directory, tables, sources, scope, in_place=None):
        staged.append((directory, written[0], sources, scope))
        raise Staged
    with pytest.raises(Staged):
        build.run_build([plans], tmp_path / "out", steps=build.Steps(stage=stage, validate=validate))
    return staged[0]


def _change_a_byte(path: Path, chosen) -> None:
    """``stated_as`` of the first row ``chosen`` takes a value of the same length out of its enum."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines[1:], 1) if chosen(line) and ",number," in line)
    lines[row] = lines[row].replace(",number,", ",numbex,", 1)
    path.write_text("".join(lines), encoding="utf-8")


def _replace(table: pa.Table, column: str, row: int, value) -> pa.Table:
    cells = table.column(column).to_pylist()
    cells[row] = value
    kind = table.schema.field(column).type
    return table.set_column(table.schema.get_field_index(column), column, pa.array(cells, kind))


def _first_row(table: pa.Table, plan: str, where=None) -> int:
    mask = pc.equal(table.column("plan_id"), plan)
    if where is not None:
        mask = pc.and_(mask, where)
    return pc.index(mask, True).as_py()


def _broken(tables: dict[str, pa.Table], plan: str) -> dict[str, pa.Table]:
    """The changed plan's rows broken (a cell out of its enum, a key repeated, a foreign key within the plan
    and one across plans dangling), and an agency an unchanged plan's rows name removed from the corpus;
    an unchanged plan's budget line out of its enum too (its file in place changed: nothing copied)."""
    lines, tasks, agencies = tables["budget_lines"], tables["tasks"], tables["task_agencies"]
    lines = _replace(lines, "stated_as", _first_row(lines, plan), "sai")
    lines = _replace(lines, "stated_as", pc.index(pc.not_equal(lines.column("plan_id"), plan), True).as_py(), "sai")
    lines = _replace(lines, "item_code", _first_row(lines, plan) + 1, MISSING)
    tasks = _replace(tasks, "pillar", _first_row(tasks, plan, pc.is_valid(tasks.column("pillar"))), MISSING)
    first = _first_row(tasks, plan)
    tasks = pa.concat_tables([tasks.slice(0, first + 1), tasks.slice(first)])  # its first task twice
    unchanged = pc.and_(pc.not_equal(agencies.column("plan_id"), plan), pc.is_valid(agencies.column("agency_id")))
    named = agencies.column("agency_id")[pc.index(unchanged, True).as_py()].as_py()
    kept_agencies = tables["agencies"].filter(pc.not_equal(tables["agencies"].column("agency_id"), named))
    return tables | {"budget_lines": lines, "tasks": tasks, "agencies": kept_agencies}


def test_a_refresh_validation_reads_the_changed_plans_rows_and_finds_what_every_rows_finds(
        refreshed_corpus, tmp_path):
    directory, tables, _, scope = _stage(refreshed_corpus, tmp_path, _broken, edited=["budget_lines"])
    try:
        (changed,) = scope.plans
        resources = [r for r in read_descriptor(directory)["resources"] if r.get("format") == "csv" and "schema" in r]
        written = build.without(tables, build.CHANGES)
        spans = read_span_table(csv_spans_path(directory))

        def read_in_part(name):
            schema = next(r["schema"] for r in resources if r["name"] == name)
            return scoped_rows(directory / csv_path(name), schema, written[name],
                               spans.filter(pc.equal(spans.column("resource"), name)))
        # of tasks, the changed plan's rows alone are read from the file; budget_lines, not copied, whole
        plan_rows = pc.sum(pc.equal(written["tasks"].column("plan_id"), changed)).as_py()
        assert sum(r[3] for r in read_in_part("tasks").read) == plan_rows < written["tasks"].num_rows
        assert read_in_part("budget_lines") is None

        scoped = check_csv_resources(directory, resources, scope, tables=written)
        every_row = check_csv_resources(directory, resources)
        assert scoped == every_row
        found = {(v.resource, v.kind): v for v in scoped}
        assert set(found) == {("budget_lines", "constraint-error"), ("budget_lines", "foreign-key"),
                              ("tasks", "primary-key"), ("tasks", "foreign-key"), ("task_agencies", "foreign-key"),
                              ("responsibilities", "foreign-key")}  # the agency is named there too
        assert {found[k].plan_id for k in [("budget_lines", "foreign-key"), ("tasks", "primary-key"),
                                           ("tasks", "foreign-key")]} == {changed}
        assert found["budget_lines", "constraint-error"].count == 2  # the unchanged plan's line, rendered, too
        assert all(v.row and v.source_line for v in scoped)
        # the agency removed is named by both plans' rows, those of the plan whose rows were not read too
        agencies = written["task_agencies"]
        gone = {a["agency_id"] for a in written["task_agencies"].to_pylist()} - set(
            written["agencies"].column("agency_id").to_pylist()) - {None}
        named = pc.is_in(agencies.column("agency_id"), pa.array(sorted(gone)))
        assert found["task_agencies", "foreign-key"].count == pc.sum(named).as_py()
        assert {p for p, n in zip(agencies.column("plan_id").to_pylist(), named.to_pylist(), strict=True) if n} == {
            p for p in agencies.column("plan_id").to_pylist()}
    finally:
        build.discard(directory)


def test_a_changed_byte_of_an_unchanged_plans_row_fails_the_refresh_validation(refreshed_corpus, tmp_path):
    """The unchanged plans' rows are not read cell by cell: their file's sha256 is what vouches for them."""
    directory, tables, sources, scope = _stage(refreshed_corpus, tmp_path)
    try:
        (changed,) = scope.plans
        build.validate_staged(directory, tables, sources, scope)  # the refresh as staged: valid
        _change_a_byte(directory / csv_path("budget_lines"), lambda line: not line.startswith(f"{changed},"))
        with pytest.raises(KehoachError, match=r"budget_lines\.csv: sha256 differs from the descriptor"):
            build.validate_staged(directory, tables, sources, scope)
    finally:
        build.discard(directory)


def test_a_plan_any_of_whose_rows_were_rendered_is_read_whole(tmp_path):
    """A plan's rows in two runs, one copied and one rendered: both are read (its keys are compared among
    its rows), the rows of a plan copied whole are not."""
    schema = {"fields": [{"name": "plan_id", "type": "string"}, {"name": "n", "type": "integer"}],
              "primaryKey": ["plan_id", "n"]}
    before = pa.table({"plan_id": ["a", "a", "b"], "n": [1, 2, 1]})
    after = pa.table({"plan_id": ["a", "a", "b", "a"], "n": [1, 2, 1, 1]})  # a's first row again, last
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    in_place = {s.plan_id: s for s in write_csv(before.to_reader, old)}
    spans = write_csv(after.to_reader, new, Reused(old, in_place, frozenset()))
    assert [(s.plan_id, s.copied) for s in spans] == [("a", True), ("b", True), ("a", False)]
    write_spans(csv_spans_path(tmp_path), {"t": spans})  # where the validation of tmp_path finds them
    rows = scoped_rows(new, schema, after, read_span_table(csv_spans_path(tmp_path)))
    assert [(row, count) for _, _, row, count in rows.read] == [(2, 2), (5, 1)]
    assert rows.unread_plans == {"b"} and rows.unread.to_pylist() == [False, False, True, False]
    resources = [{"name": "t", "path": "new.csv", "format": "csv", "schema": schema}]
    (repeated,) = check_csv_resources(tmp_path, resources, RowScope(frozenset(), frozenset({"t"})), tables={"t": after})
    assert (repeated.kind, repeated.row, repeated.plan_id) == ("primary-key", 5, "a")


def test_a_plan_gone_from_the_corpus_is_found_in_the_rows_not_read(tmp_path):
    """A foreign key of ``plan_id`` alone, to a table rebuilt whole: the runs of rows not read count their rows."""
    schema = {"fields": [{"name": "plan_id", "type": "string"}, {"name": "n", "type": "integer"}],
              "primaryKey": ["plan_id", "n"],
              "foreignKeys": [{"fields": ["plan_id"], "reference": {"resource": "plans", "fields": ["plan_id"]}}]}
    rows = pa.table({"plan_id": ["a", "b", "b", "c"], "n": [1, 1, 2, 1]})
    old, new = tmp_path / "old.csv", tmp_path / "t.csv"
    in_place = {s.plan_id: s for s in write_csv(rows.to_reader, old)}
    spans = write_csv(rows.to_reader, new, Reused(old, in_place, frozenset({"c"})))
    write_spans(csv_spans_path(tmp_path), {"t": spans})
    (tmp_path / "plans.csv").write_text("plan_id\na\nc\n", encoding="utf-8")  # b left the corpus
    resources = [{"name": "t", "path": "t.csv", "format": "csv", "schema": schema},
                 {"name": "plans", "path": "plans.csv", "format": "csv",
                  "schema": {"fields": [{"name": "plan_id", "type": "string"}], "primaryKey": ["plan_id"]}}]
    scoped = check_csv_resources(tmp_path, resources, RowScope(frozenset({"c"}), frozenset({"t"})), tables={"t": rows})
    assert scoped == check_csv_resources(tmp_path, resources)
    assert [(v.kind, v.count, v.row, v.plan_id) for v in scoped] == [("foreign-key", 2, 3, "b")]


def test_rows_not_read_are_trusted_to_point_at_a_table_unchanged_the_rows_read_are_checked(tmp_path):
    """A foreign key to a table whose file is the package in place's (``unchanged``): the rows copied pointed
    at the same rows there, and were validated there; the rows read are checked."""
    schema = {"fields": [{"name": "plan_id", "type": "string"}, {"name": "agency_id", "type": "string"}],
              "primaryKey": ["plan_id", "agency_id"],
              "foreignKeys": [{"fields": ["agency_id"],
                               "reference": {"resource": "agencies", "fields": ["agency_id"]}}]}
    rows = pa.table({"plan_id": ["a", "c"], "agency_id": ["gone-a", "gone-c"]})
    old, new = tmp_path / "old.csv", tmp_path / "t.csv"
    in_place = {s.plan_id: s for s in write_csv(rows.to_reader, old)}
    spans = write_csv(rows.to_reader, new, Reused(old, in_place, frozenset({"c"})))
    write_spans(csv_spans_path(tmp_path), {"t": spans})
    (tmp_path / "agencies.csv").write_text("agency_id\nkept\n", encoding="utf-8")
    resources = [{"name": "t", "path": "t.csv", "format": "csv", "schema": schema},
                 {"name": "agencies", "path": "agencies.csv", "format": "csv",
                  "schema": {"fields": [{"name": "agency_id", "type": "string"}], "primaryKey": ["agency_id"]}}]
    scope = RowScope(frozenset({"c"}), frozenset({"t"}))
    every = check_csv_resources(tmp_path, resources, scope, tables={"t": rows})
    assert [(v.kind, v.count, v.plan_id) for v in every] == [("foreign-key", 2, "a")]
    (read,) = check_csv_resources(tmp_path, resources, scope, tables={"t": rows}, unchanged={"agencies"})
    assert (read.kind, read.count, read.plan_id, read.row) == ("foreign-key", 1, "c", 3)
    assert check_csv_resources(tmp_path, resources, scope, tables={"t": rows}, unchanged={"agencies", "t"}) == []


def test_the_tables_an_amendment_left_as_they_were_are_known_unchanged(refreshed_corpus, tmp_path):
    """Of a refresh's staged tables, those whose file records the hash of the package in place's file."""
    directory, tables, sources, scope = _stage(refreshed_corpus, tmp_path)
    try:
        csvs = [r for r in read_descriptor(directory)["resources"] if r.get("format") == "csv" and "schema" in r]
        unchanged = unchanged_tables(csvs, RecordedFiles(tmp_path / "out"))
        same_bytes = {r["name"] for r in csvs
                      if (tmp_path / "out" / r["path"]).read_bytes() == (directory / r["path"]).read_bytes()}
        assert unchanged == same_bytes
        assert {"agencies", "documents", "pillars", "tasks"} <= unchanged
        # the plan's source, the amended amounts, the audit's findings of them
        assert not unchanged & {"plans", "budget_stated_totals", "findings"}
        build.validate_staged(directory, tables, sources, scope, tmp_path / "out")
        edited = tmp_path / "pillars.csv"  # by hand, saved by a rename (the staged file, a link, stays)
        edited.write_bytes(b"plan_id\n")
        edited.replace(tmp_path / "out" / csv_path("pillars"))
        assert "pillars" not in unchanged_tables(csvs, RecordedFiles(tmp_path / "out"))
    finally:
        build.discard(directory)
