"""The DuckDB file of a refresh: the file in place copied and updated, holding what a file written whole holds."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from corpus import amend, write_corpus
from helpers import PLAN_FILE, copy_package

from kehoach import build
from kehoach.core.model import primary_key
from kehoach.package import database
from kehoach.package.database import DATABASE_FILE, write_database
from kehoach.package.pending import InPlace

# The build without its validation (the slow step, checked by the flow's tests): the DuckDB file is what is compared.
UNVALIDATED = build.Steps(validate=lambda *args: None)


class _Recorded:
    """What the build's DuckDB file was written from, and whether the file in place was updated."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict, InPlace | None]] = []
        self.updated: list[bool] = []


def _recording(recorded: _Recorded, monkeypatch: pytest.MonkeyPatch) -> None:
    write, update = database.write_database, database._updated_copy

    def writing(tables, path, share=1.0, in_place=None):
        recorded.calls.append((tables, in_place))
        return write(tables, path, share, in_place)

    def updating(*args):
        facts = update(*args)
        recorded.updated.append(facts is not None)
        return facts

    monkeypatch.setattr(database, "write_database", writing)
    monkeypatch.setattr(database, "_updated_copy", updating)


@pytest.fixture(scope="module")
def refresh(tmp_path_factory):
    """Three plans built, a copy of that package kept (``before``), then one plan amended, one removed (its
    plan's row deleted after the rows pointing at it) and the corpus refreshed."""
    folder = tmp_path_factory.mktemp("refresh")
    paths = write_corpus(PLAN_FILE, folder / "corpus", 3)
    out = folder / "out"
    build.run_build(paths, out, steps=UNVALIDATED)
    before = copy_package(out, folder / "before")
    amend(paths[1])
    paths[2].unlink()
    recorded = _Recorded()
    with pytest.MonkeyPatch.context() as patch:
        _recording(recorded, patch)
        result = build.run_build(paths[:2], out, steps=UNVALIDATED)
    assert result.changed
    [(tables, in_place)] = recorded.calls
    return out, before, tables, in_place, recorded.updated


@pytest.fixture(scope="module")
def whole(refresh, tmp_path_factory):
    """What a file written whole from the refresh's tables holds (``_everything``)."""
    path = tmp_path_factory.mktemp("whole") / "kehoach.duckdb"
    write_database(refresh[2], path)
    return _everything(path)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _everything(path) -> dict:
    """Every table's rows in key order, and the file's declarations: constraints, columns and types,
    views, macros, comments, the storage format, the meta_* tables."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [n for (n,) in _rows(con, "SELECT table_name FROM duckdb_tables() ORDER BY 1")]
        found = {}
        for name in names:
            order = ", ".join(f'"{k}"' for k in primary_key(name)) if not name.startswith("meta_") else "ALL"
            found[name] = _rows(con, f'SELECT * FROM "{name}" ORDER BY {order or "ALL"}')
        found["constraints"] = _rows(con, "SELECT table_name, constraint_type, constraint_text "
                                          "FROM duckdb_constraints() ORDER BY ALL")
        found["columns"] = _rows(con, "SELECT table_name, column_name, column_index, data_type, is_nullable, "
                                      "comment FROM duckdb_columns() ORDER BY ALL")
        found["tables"] = _rows(con, "SELECT table_name, comment, has_primary_key FROM duckdb_tables() ORDER BY ALL")
        found["views"] = _rows(con, "SELECT view_name, sql, comment FROM duckdb_views() WHERE NOT internal "
                                    "ORDER BY ALL")
        found["macros"] = _rows(con, "SELECT function_name, macro_definition FROM duckdb_functions() "
                                     "WHERE function_type = 'macro' AND NOT internal ORDER BY ALL")
        found["storage"] = _rows(con, "SELECT tags FROM duckdb_databases() WHERE NOT internal")
        return found
    finally:
        con.close()


def test_a_refreshed_file_holds_what_a_file_written_whole_holds(refresh, whole):
    out, _, tables, in_place, updated = refresh
    assert in_place is not None and updated == [True]
    incremental = _everything(out / DATABASE_FILE)
    assert incremental.keys() == whole.keys()
    for part in incremental:
        assert incremental[part] == whole[part], part
    plans = set(tables["plans"].column("plan_id").to_pylist())
    [amended], [removed] = in_place.scope.plans & plans, in_place.scope.plans - plans
    facts = dict(incremental["meta_package"])
    assert facts["plans"].split(", ") == tables["plans"].column("plan_id").to_pylist()
    assert facts["tables_without_constraints"] == ""
    assert removed not in {p for (p, *_) in incremental["tasks"]} and len(incremental["plans"]) == 2
    # the amended plan's rows are new: its doubled row of amounts is in the file
    amounts = {r["amount_million_vnd"] for r in tables["budget_lines"].to_pylist() if r["plan_id"] == amended}
    con = duckdb.connect(str(out / DATABASE_FILE), read_only=True)
    try:
        held = {a for (a,) in _rows(con, f"SELECT amount_million_vnd FROM budget_lines WHERE plan_id = '{amended}'")}
    finally:
        con.close()
    assert held == amounts


def test_a_table_whose_rows_break_its_constraints_ends_as_the_full_path_leaves_it(refresh, tmp_path, monkeypatch):
    _, before, tables, in_place, _ = refresh
    [amended] = in_place.scope.plans & set(tables["plans"].column("plan_id").to_pylist())
    tasks = tables["tasks"]
    theirs = tasks.filter(pc.equal(tasks.column("plan_id"), amended))
    broken = {**tables, "tasks": pa.concat_tables([tasks, theirs.slice(0, 1)])}  # a key twice, in the changed plan
    recorded = _Recorded()
    _recording(recorded, monkeypatch)
    facts = database.write_database(broken, tmp_path / "refreshed.duckdb", in_place=InPlace(before, in_place.scope))
    assert recorded.updated == [False] and facts["tables_without_constraints"] == "tasks"
    write_database(broken, tmp_path / "whole.duckdb")
    assert _everything(tmp_path / "refreshed.duckdb") == _everything(tmp_path / "whole.duckdb")


def test_a_file_in_place_not_the_one_its_descriptor_records_is_not_updated(refresh, whole, tmp_path, monkeypatch):
    _, before, tables, in_place, _ = refresh
    other = copy_package(before, tmp_path / "other")
    desc = json.loads((other / "datapackage.json").read_text(encoding="utf-8"))
    [resource] = [r for r in desc["resources"] if r.get("path") == DATABASE_FILE]
    resource["hash"] = "sha256:" + "0" * 64
    (other / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    recorded = _Recorded()
    _recording(recorded, monkeypatch)
    database.write_database(tables, tmp_path / "x.duckdb", in_place=InPlace(other, in_place.scope))
    assert recorded.updated == [False] and _everything(tmp_path / "x.duckdb") == whole


def test_a_refresh_whose_scope_is_unknown_writes_the_file_whole(refresh, tmp_path, monkeypatch):
    """Another parser fingerprint in the package's state: no scope, no file in place to start from."""
    _, before, _, _, _ = refresh
    out = copy_package(before, tmp_path / "out")
    state = json.loads((out / ".kehoach" / "state.json").read_text(encoding="utf-8"))
    state["parser_fingerprint"] = "another parser"
    state.pop("input_fingerprint")
    (out / ".kehoach" / "state.json").write_text(json.dumps(state), encoding="utf-8")
    paths = write_corpus(PLAN_FILE, tmp_path / "corpus", 2)
    amend(paths[1])
    recorded = _Recorded()
    _recording(recorded, monkeypatch)
    build.run_build(paths, out, steps=UNVALIDATED)
    assert [in_place for _, in_place in recorded.calls] == [None] and recorded.updated == []


def test_the_rows_an_amendment_left_as_they_were_stay_where_they_were_in_the_file(refresh):
    """Only the rows that differ are deleted, updated or inserted: DuckDB writes again the indexes of a table
    changed, all of them (a 1,000-plan refresh: a second of its checkpoint), not those of a table left alone."""
    out, before, tables, in_place, _ = refresh
    [amended] = in_place.scope.plans & set(tables["plans"].column("plan_id").to_pylist())

    def placed(path, name: str) -> set[tuple]:
        con = duckdb.connect(str(path / DATABASE_FILE), read_only=True)
        try:
            return set(_rows(con, f"SELECT rowid, * FROM \"{name}\" WHERE plan_id = '{amended}'"))
        finally:
            con.close()
    changed = []
    for name in sorted(in_place.scope.tables):
        old, new = placed(before, name), placed(out, name)
        same_values = {row[1:] for row in old} & {row[1:] for row in new}
        # every row whose values are the same is the same row, at the same place
        assert {row for row in new if row[1:] in same_values} == {row for row in old if row[1:] in same_values}
        changed += [name] if old != new else []
    assert "tasks" not in changed and 0 < len(changed) < len(in_place.scope.tables) / 2, changed
