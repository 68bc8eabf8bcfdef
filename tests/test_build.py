"""Combining parsed sources into the corpus (``kehoach.parse.corpus.parsed``, ``combine``)."""

from __future__ import annotations

import json
import threading
import time

import duckdb
import pytest
from corpus import write_corpus
from helpers import PLAN_FILE, write_plan
from sample_plans import OTHER_PLAN

from kehoach import build
from kehoach.core.errors import KehoachError
from kehoach.core.files import sha256_file
from kehoach.parse.corpus import combine, parse_sources, parsed
from kehoach.parse.plan import read_plan, typed
from kehoach.read.sources import read_source


def _parsed(paths):
    return parsed(read_plan(read_source(p)) for p in paths)


def test_batches_combine_to_the_tables_of_one_pass(tmp_path):
    corpus = write_corpus(PLAN_FILE, tmp_path / "corpus", 3)
    other = write_plan(tmp_path, OTHER_PLAN, "other.txt")
    paths = [*corpus, other]
    whole = combine([_parsed(paths)])
    batched = combine([_parsed(paths[:1]), _parsed(paths[1:3]), _parsed(paths[3:])])
    assert {n: t.to_pylist() for n, t in batched.items()} == {n: t.to_pylist() for n, t in whole.items()}
    assert len(whole["plans"]) == 4
    # code lists shared by the plans are kept once, the first plan's row first
    doc_ids = whole["documents"].column("doc_id").to_pylist()
    assert len(doc_ids) == len(set(doc_ids))


def test_plans_typed_together_are_the_plans_typed_alone_and_a_refused_value_names_its_own_file(tmp_path):
    """``kehoach.parse.plan.typed``: one conversion per table for several plans
    gives each plan's rows as converting it alone does; a value the schema
    refuses, in the second plan, is located in that plan's file."""
    paths = write_corpus(PLAN_FILE, tmp_path / "corpus", 2)
    plans = [read_plan(read_source(p)) for p in paths]
    together = typed(plans)
    alone = [typed([plan]) for plan in plans]
    for name, table in together.items():
        assert table.to_pylist() == alone[0][name].to_pylist() + alone[1][name].to_pylist(), name
    assert together["tasks"].num_rows > 0
    row = plans[1].rows["tasks"][3]
    row["name"] = None  # required by schemas/tasks.schema.json
    with pytest.raises(KehoachError) as error:
        typed(plans)
    assert error.value.message == "tasks: required field 'name' is empty"
    assert (error.value.path, error.value.line) == (str(paths[1]), row["source_line"])


def test_a_plan_given_by_two_sources_in_two_batches_is_refused(tmp_path):
    first = write_plan(tmp_path, OTHER_PLAN, "a.txt")
    second = write_plan(tmp_path, OTHER_PLAN, "b.txt")
    with pytest.raises(KehoachError) as error:
        combine([_parsed([first]), _parsed([second])])
    plan_id = combine([_parsed([first])])["plans"].column("plan_id")[0].as_py()
    assert error.value.message == f"plan {plan_id} is given by more than one source: {first}, {second}"


def test_the_database_written_beside_the_validation_is_listed_where_it_always_was(built_package):
    """``kehoach.package.pending``: the DuckDB file is finished before the swap, listed right
    after the sources' files, with its own size and sha256."""
    desc = json.loads((built_package / "datapackage.json").read_text(encoding="utf-8"))
    names = [r["name"] for r in desc["resources"]]
    last_source = max(i for i, r in enumerate(desc["resources"]) if r["path"].startswith("source/"))
    database = desc["resources"][last_source + 1]
    assert (database["name"], database["path"]) == ("database", "data/kehoach.duckdb")
    assert names.count("database") == 1 and desc["duckdb_version"] == duckdb.__version__
    assert database["hash"] == f"sha256:{sha256_file(built_package / database['path'])}"
    assert database["bytes"] == (built_package / database["path"]).stat().st_size


def test_a_staged_package_is_removed_only_after_its_files_are_written(tmp_path, monkeypatch, plan_source):
    """A staging directory discarded while a thread still writes in it (a failed validation, an
    unchanged package) is removed once the thread is done: nothing is left behind."""
    staged, wrote = threading.Event(), []

    def slow_hook(tables, directory, extra, share, in_place):
        staged.wait(60)
        time.sleep(0.3)  # still writing when the build discards the directory
        (directory / "late.txt").write_text("late", encoding="utf-8")
        wrote.append(directory)
        return []

    monkeypatch.setattr(build, "BACKGROUND_HOOKS", [slow_hook])
    tables = parse_sources([plan_source])
    directory, _ = build.stage(tables, [plan_source], tmp_path / "out")
    staged.set()
    build.discard(directory)
    assert wrote == [directory] and not directory.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []
