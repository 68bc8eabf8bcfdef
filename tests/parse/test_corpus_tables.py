"""The corpus's tables written to disk a batch at a time and read through memory maps (``corpus_tables``)."""

from __future__ import annotations

import pyarrow as pa

from kehoach.core.model import concat, primary_key, record_batches, resource_names
from kehoach.parse import corpus_tables
from kehoach.parse.corpus_tables import CorpusTables, without, write_tables


def _renamed(tables, plan_id: str):
    """The plan's tables as another plan's: its plan_id changed in every table keyed by plan."""
    out = {}
    for name, table in tables.items():
        if "plan_id" in table.column_names:
            index = table.schema.get_field_index("plan_id")
            ids = pa.array([plan_id] * table.num_rows, table.schema.field(index).type)
            table = table.set_column(index, table.schema.field(index), ids)
        out[name] = table
    return out


def test_the_tables_on_disk_are_the_corpus_concat_makes_in_memory(plan_tables, tmp_path, monkeypatch):
    other = _renamed(plan_tables, "another-plan")
    monkeypatch.setattr(corpus_tables, "BATCH_BYTES", 1)  # a batch a source: the rows cross batches
    tables = write_tables(tmp_path / "tables", [dict(plan_tables), dict(other)])
    expected = concat([dict(plan_tables), dict(other)])
    assert list(tables) == resource_names()
    for name in resource_names():
        assert tables[name].equals(expected[name]), name
        assert tables.num_rows(name) == expected[name].num_rows
    # a code list the plans share keeps one row a key; a table keyed by plan holds both plans' rows
    shared = next(n for n in resource_names() if primary_key(n) and "plan_id" not in primary_key(n)
                  and plan_tables[n].num_rows)
    assert tables[shared].num_rows == plan_tables[shared].num_rows
    assert tables["tasks"].num_rows == 2 * plan_tables["tasks"].num_rows > 0
    assert tables["tasks"].column("plan_id").num_chunks == 2


def test_a_table_a_step_made_is_held_over_the_files(plan_tables, tmp_path):
    tables = write_tables(tmp_path / "tables", [dict(plan_tables)])
    findings = plan_tables["findings"].slice(0, 0)
    merged = tables | {"findings": findings, "scratch": plan_tables["plans"]}
    assert isinstance(merged, CorpusTables) and merged.folder == tables.folder
    assert merged["findings"] is findings and merged.num_rows("scratch") == plan_tables["plans"].num_rows
    assert list(merged) == [*resource_names(), "scratch"]
    assert merged["tasks"].equals(plan_tables["tasks"])
    assert "scratch" not in tables and tables["findings"].num_rows == plan_tables["findings"].num_rows


def test_a_table_left_out_is_not_looked_up(plan_tables, tmp_path):
    tables = write_tables(tmp_path / "tables", [dict(plan_tables)]) | {"findings": plan_tables["findings"]}
    rest = without(tables, "changes", "findings")
    assert isinstance(rest, CorpusTables) and "changes" not in rest and "findings" not in rest
    assert list(rest) == [n for n in resource_names() if n not in ("changes", "findings")]
    assert (rest | {"changes": plan_tables["plans"]})["changes"].num_rows == plan_tables["plans"].num_rows
    assert without(dict(plan_tables), "changes").keys() == set(plan_tables) - {"changes"}


def test_a_small_table_stays_mapped_a_large_one_is_mapped_at_each_lookup(plan_tables, tmp_path, monkeypatch):
    tables = write_tables(tmp_path / "tables", [dict(plan_tables)])
    assert tables["tasks"] is tables["tasks"]  # a plan's tables are small: looked up once
    assert "tasks" in tables and "scratch" not in tables and not tables.held
    monkeypatch.setattr(corpus_tables, "KEPT_MAPPED_BYTES", 0)  # every table counts as large
    fresh = CorpusTables(tables.folder)
    first = fresh["tasks"]
    assert fresh["tasks"] is not first and fresh["tasks"].equals(first) and not fresh.mapped


def test_a_refresh_writes_the_unchanged_sources_rows_as_runs_of_the_last_files(plan_tables, tmp_path):
    """Three plans written, the middle one then replaced: the files are those a build from scratch writes
    (every table, every row), and the unchanged plans' rows are the last files' chunks, not re-gathered."""
    plans = [corpus_tables.Piece(f"key-{i}", (f"plan-{i}",), _renamed(plan_tables, f"plan-{i}")) for i in range(3)]
    folder = tmp_path / "tables"
    write_tables(folder, plans)
    kept = corpus_tables.kept(folder)
    assert sorted(kept) == ["key-0", "key-1", "key-2"] and kept["key-0"].runs["tasks"].count > 0
    amended = corpus_tables.Piece("key-1b", ("plan-1",), _renamed(plan_tables, "plan-1").copy())
    amended.tables["tasks"] = amended.tables["tasks"].slice(1)  # one task fewer
    refreshed = write_tables(folder, [kept["key-0"], amended, kept["key-2"]])
    expected = write_tables(tmp_path / "scratch", [plans[0], amended, plans[2]])
    for name in resource_names():
        assert refreshed[name].equals(expected[name]), name
    assert refreshed["tasks"].num_rows == 3 * plan_tables["tasks"].num_rows - 1
    # the last file's one chunk cut around the amended plan's rows: three chunks, not a chunk a plan per write
    assert refreshed["tasks"].column("plan_id").num_chunks == 3
    assert sorted(corpus_tables.kept(folder)) == ["key-0", "key-1b", "key-2"]


def _maps_of(path) -> int:
    """How many of this process's memory maps are of the file ``path``."""
    with open("/proc/self/maps", encoding="utf-8") as maps:
        return sum(1 for line in maps if line.rstrip("\n").endswith(str(path)))


def test_a_large_table_read_through_holds_a_batch_of_the_corpus_mapped_at_a_time(plan_tables, tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_tables, "BATCH_BYTES", 1)  # a batch a source, and a map a batch
    monkeypatch.setattr(corpus_tables, "KEPT_MAPPED_BYTES", 0)  # every table counts as large
    sources = [_renamed(plan_tables, f"plan-{i}") for i in range(3)]
    tables = write_tables(tmp_path / "tables", sources)
    path = tables.path("tasks")
    reader = record_batches(tables, "tasks")
    assert reader.schema.equals(plan_tables["tasks"].schema) and _maps_of(path) == 0
    batches = []
    for batch in reader:
        batches.append(batch.num_rows)
        assert _maps_of(path) == 1  # this batch's map: the one before it let go once dropped
        del batch
    assert batches == [plan_tables["tasks"].num_rows] * 3 and _maps_of(path) == 0
    monkeypatch.setattr(corpus_tables, "BATCH_BYTES", path.stat().st_size)  # the whole file: one map
    held = list(record_batches(tables, "tasks"))
    assert len(held) == 3 and _maps_of(path) == 1
    del held
    assert _maps_of(path) == 0
    assert pa.Table.from_batches(record_batches(tables, "tasks")).equals(concat(sources)["tasks"])
    held = tables | {"findings": plan_tables["findings"]}  # a table held is read from memory
    assert record_batches(held, "findings").read_all().equals(plan_tables["findings"])
    assert record_batches(dict(plan_tables), "tasks").read_all().equals(plan_tables["tasks"])
