"""The parse cache: a refresh parses only the texts whose entry is missing or
invalid, and gives the package a full rebuild of the same texts gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from corpus import variant, write_corpus
from helpers import PLAN_FILE, plan_text

from kehoach import build, datasets
from kehoach.package import csv_file, writer
from kehoach.package.layout import parse_cache_dir
from kehoach.parse import cache as parse_cache
from kehoach.parse import corpus, corpus_tables
from kehoach.parse.cache import ParseCache
from kehoach.read.sources import read_file
from kehoach.versions import diff, incremental
from kehoach.versions.comparison import current_schemas

# The builds leave validation out (the slow step: the flow tests and built_package validate a build).
UNVALIDATED = build.Steps(validate=lambda *args: None)
ROW = "1.2 | Hội nghị, hội thảo, tập huấn về Chuyển đổi số; Ngày Chuyển đổi số | - | - | 360 | - |"


@pytest.fixture()
def parsed_paths(monkeypatch) -> list[str]:
    """The paths of the texts the parser reads, in order (the real parser, recorded)."""
    seen: list[str] = []
    real = corpus.read_plan

    def recording(source):
        seen.append(Path(source.path).name)
        return real(source)
    monkeypatch.setattr(corpus, "read_plan", recording)
    return seen


@pytest.fixture()
def rendered_plans(monkeypatch) -> set[tuple[str, str | None]]:
    """(table, plan) of the CSV rows rendered, not copied from the package in place (None: a run of rows
    not of one plan, or a table without plans)."""
    seen: set[tuple[str, str | None]] = set()
    real = csv_file.write_csv

    def recording(read, path, reused=None, digest=None):
        spans = real(read, path, reused, digest)
        copied = {s.plan_id for s in spans if reused is not None and reused.span(s.plan_id, s.rows) is not None}
        plans = {p for p, _, _ in csv_file.plan_runs(read())} or {None}
        seen.update((path.stem, p) for p in plans - copied)
        return spans
    monkeypatch.setattr(writer, "write_csv", recording)
    return seen


def _entries(out: Path) -> list[Path]:
    return sorted(parse_cache_dir(out).iterdir())


def _data(out: Path, name: str):
    return pq.read_table(out / "data" / f"{name}.parquet")


def test_one_changed_text_is_parsed_again_and_the_package_equals_a_full_rebuild(tmp_path, parsed_paths,
                                                                                  rendered_plans, monkeypatch):
    plans, out = tmp_path / "plans", tmp_path / "out"
    write_corpus(PLAN_FILE, plans, 2)
    first = build.run_build([plans], out, steps=UNVALIDATED)
    assert sorted(parsed_paths) == ["plan-00000.txt", "plan-00001.txt"] and len(_entries(out)) == 2
    shutil.copytree(out, tmp_path / "full")  # the same version, to be refreshed without its cache
    shutil.rmtree(parse_cache_dir(tmp_path / "full"))
    shutil.rmtree(corpus_tables.folder_beside(parse_cache_dir(tmp_path / "full")))
    real_load = ParseCache.load
    assert [d.version for d in datasets.update_plan_datasets(out, workers=1)] == ["1.0.0", "1.0.0"]
    files = dict(zip(*(_data(out, "plans")[c].to_pylist() for c in ("source_file", "plan_id")), strict=True))
    changed_id = files["plan-00001.txt"]
    assert ROW in plan_text()
    (plans / "plan-00001.txt").write_text(variant(plan_text().replace(ROW, ROW.replace("360", "361")), 1),
                                          encoding="utf-8")
    parsed_paths.clear()
    rendered_plans.clear()
    # what the CLI decodes first and sizes the cluster it starts ahead by
    assert [Path(s.path).name for s in build.unparsed(build.read_sources([plans]), out)] == ["plan-00001.txt"]

    loaded = []
    monkeypatch.setattr(ParseCache, "load", lambda cache, key: loaded.append(key) or real_load(cache, key))
    refreshed = build.run_build([plans], out, steps=UNVALIDATED)
    assert parsed_paths == ["plan-00001.txt"]  # the other text's tables came from its entry
    # as the last build wrote them in the corpus's table files, kept beside the cache: its entry not read
    assert loaded == corpus.source_keys(build.read_sources([plans / "plan-00001.txt"]))
    monkeypatch.setattr(ParseCache, "load", real_load)
    # of the tables its entry made, the other plan's CSV rows were copied from the package in place
    entry_tables = incremental.entry_tables(current_schemas()[1])
    assert {plan_id for name, plan_id in rendered_plans if name in entry_tables} == {changed_id}
    assert {name for name, plan_id in rendered_plans if plan_id != changed_id} == set(
        current_schemas()[0]) - entry_tables  # the tables made of the whole corpus: rendered whole
    assert (first.version, refreshed.version) == ("1.0.0", "1.1.0")
    changes = _data(out, "changes").to_pylist()
    # the corpus's changelog: that plan's rows (and corpus-wide ones: the audit's counts of its rules)
    assert {c["plan_id"] for c in changes if c["plan_id"]} == {changed_id}
    assert [(c["resource"], c["field"], c["old_value"], c["new_value"], c["source_line"]) for c in changes
            if c["resource"] == "budget_lines"] == [("budget_lines", "amount_million_vnd", "720", "722", 415),
                                                    ("budget_lines", "amount_text", "720", "722", 415)]
    # the refresh compared that plan's rows of the tables its entry made (kehoach.versions.incremental);
    # its changelog is the one a comparison of every row of both versions gives
    assert incremental.changed_plans(_data(out, "plans"), out) == set()  # the state records the parser
    whole = diff.diff_tables(diff.load_package(out / "versions" / "1.0.0").tables, diff.load_package(out).tables,
                             *current_schemas())
    fields = list(whole[0])
    assert sorted(tuple(str(c[f]) for f in fields) for c in changes) == sorted(
        tuple(str(c[f]) for f in fields) for c in whole)
    # only the changed plan's own dataset gets a new version, whose changelog is that plan's rows
    plan_datasets = {d.plan_id: d for d in datasets.update_plan_datasets(out, workers=1)}
    assert {(d.version, d.changed) for i, d in plan_datasets.items() if i != changed_id} == {("1.0.0", False)}
    assert (plan_datasets[changed_id].version, plan_datasets[changed_id].changed) == ("1.1.0", True)
    assert pq.read_table(plan_datasets[changed_id].directory / "data" / "changes.parquet").num_rows == len(changes)

    parsed_paths.clear()
    full = build.run_build([plans], tmp_path / "full", steps=UNVALIDATED)  # the same texts, every one parsed
    assert sorted(parsed_paths) == ["plan-00000.txt", "plan-00001.txt"]
    assert (full.version, full.content_sha256) == (refreshed.version, refreshed.content_sha256)
    # and with no package in place (nothing compared, nothing copied): every data file the same bytes
    fresh = tmp_path / "fresh"
    build.run_build([plans], fresh, steps=UNVALIDATED)
    assert [p.name for p in sorted((fresh / "data").glob("*.csv"))] == [p.name for p in sorted(
        (out / "data").glob("*.csv"))]
    assert [p.name for p in sorted((fresh / "data").glob("*.csv"))
            if p.name != "changes.csv" and p.read_bytes() != (out / "data" / p.name).read_bytes()] == []
    # and wrote the entries the refresh kept
    assert [p.name for p in _entries(tmp_path / "full")] == [p.name for p in _entries(out)]


def test_a_csv_file_changed_in_place_is_never_copied_from(tmp_path, rendered_plans):
    """The unchanged plans' CSV rows are copied from the package in place only when the file is the one
    its descriptor records: a cell edited by hand (same length, same rows) is not carried into the refresh."""
    plans, out = tmp_path / "plans", tmp_path / "out"
    write_corpus(PLAN_FILE, plans, 2)
    build.run_build([plans], out, steps=UNVALIDATED)
    files = dict(zip(*(_data(out, "plans")[c].to_pylist() for c in ("source_file", "plan_id")), strict=True))
    kept_id, changed_id = files["plan-00000.txt"], files["plan-00001.txt"]
    edited = out / "data" / "budget_lines.csv"
    lines = edited.read_text(encoding="utf-8").splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if kept_id in line and ",360," in line)
    lines[row] = lines[row].replace(",360,", ",999,", 1)
    edited.write_text("".join(lines), encoding="utf-8")
    (plans / "plan-00001.txt").write_text(variant(plan_text().replace(ROW, ROW.replace("360", "361")), 1),
                                          encoding="utf-8")
    rendered_plans.clear()
    build.run_build([plans], out, steps=UNVALIDATED)
    # the edited file's rows were all rendered again, the changed plan's amended rows too; a table whose
    # rows are all as they were (the changed plan's tasks render to the same bytes) is linked, not written
    assert ("budget_lines", kept_id) in rendered_plans and ("budget_lines", changed_id) in rendered_plans
    assert not {("tasks", kept_id), ("tasks", changed_id)} & rendered_plans
    previous = out / "versions" / "1.0.0" / "data"
    for linked in ("tasks.csv", "tasks.parquet"):  # its Parquet twin holds the same rows: linked too
        assert (out / "data" / linked).stat().st_ino == (previous / linked).stat().st_ino, linked
    for written in ("budget_lines.csv", "budget_lines.parquet"):
        assert (out / "data" / written).stat().st_ino != (previous / written).stat().st_ino, written
    # so is the unchanged plan's text, from the package in place; the amended text is copied from its source
    shipped = out / "source", previous.parent / "source"
    assert [(shipped[0] / f).stat().st_ino == (shipped[1] / f).stat().st_ino
            for f in ("plan-00000.txt", "plan-00001.txt")] == [True, False]
    assert (shipped[0] / "plan-00001.txt").read_bytes() == (plans / "plan-00001.txt").read_bytes()
    fresh = tmp_path / "fresh"
    build.run_build([plans], fresh, steps=UNVALIDATED)
    assert (out / "data" / "budget_lines.csv").read_bytes() == (fresh / "data" / "budget_lines.csv").read_bytes()


def test_a_corrupt_or_half_written_entry_is_parsed_again_never_used(tmp_path, parsed_paths):
    paths = write_corpus(PLAN_FILE, tmp_path / "plans", 3)
    sources = [read_file(p) for p in paths]
    cache = ParseCache(tmp_path / "cache")
    expected = corpus.parse_sources(sources, cache)
    keys = corpus.source_keys(sources)
    half, flipped = cache.path(keys[0]), cache.path(keys[2])
    half.write_bytes(half.read_bytes()[: half.stat().st_size // 2])  # a writer killed half-way
    data = bytearray(flipped.read_bytes())
    data[100] ^= 1  # a bit flipped in a table's bytes
    flipped.write_bytes(bytes(data))
    (tmp_path / "cache" / f".{half.name}.tmp-1").write_bytes(b"left by a killed writer")
    parsed_paths.clear()
    # the last parse's rows of each text, kept beside the cache, are taken first: the entries not read
    assert all(corpus.parse_sources(sources, cache)[name].equals(table) for name, table in expected.items())
    assert parsed_paths == []
    shutil.rmtree(corpus_tables.folder_beside(cache.folder))  # without them, the entries are read

    got = corpus.parse_sources(sources, cache)
    assert parsed_paths == ["plan-00000.txt", "plan-00002.txt"]
    assert all(got[name].equals(table) for name, table in expected.items())
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(f"{k}.arrows" for k in keys)
    assert all(cache.load(k) is not None for k in keys)


def test_texts_that_left_the_corpus_lose_their_entries(tmp_path, parsed_paths):
    paths = write_corpus(PLAN_FILE, tmp_path / "plans", 3)
    cache = ParseCache(tmp_path / "cache")
    corpus.parse_sources([read_file(p) for p in paths], cache)
    parsed_paths.clear()
    kept = [read_file(paths[0]), read_file(paths[2])]
    got = corpus.parse_sources(kept, cache)
    assert parsed_paths == [] and got["plans"]["source_file"].to_pylist() == ["plan-00000.txt", "plan-00002.txt"]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(
        f"{k}.arrows" for k in corpus.source_keys(kept))


@pytest.mark.parametrize("changed", ["parse/values.py", "read/sources.py", "core/text.py",
                                     "schemas/tasks.schema.json", "reference/provinces.csv"])
def test_a_change_of_parser_schema_or_vocabulary_changes_every_key(tmp_path, monkeypatch, changed):
    code, schemas, reference = tmp_path / "kehoach", tmp_path / "schemas", tmp_path / "reference"
    for part in (*parse_cache.PARSER_CODE_DIRS, "package"):
        shutil.copytree(parse_cache.PACKAGE_DIR / part, code / part)
    shutil.copytree(parse_cache.SCHEMAS_DIR, schemas)
    shutil.copytree(parse_cache.REFERENCE_DIR, reference)
    monkeypatch.setattr(parse_cache, "PACKAGE_DIR", code)
    monkeypatch.setattr(parse_cache, "SCHEMAS_DIR", schemas)
    monkeypatch.setattr(parse_cache, "REFERENCE_DIR", reference)
    parse_cache.parser_fingerprint.cache_clear()
    try:
        before = parse_cache.entry_key("raw/plan.txt", "ab" * 32)
        with (code / "package" / "writer.py").open("a", encoding="utf-8") as handle:
            handle.write("# the package's writer does not make a parse's rows\n")
        parse_cache.parser_fingerprint.cache_clear()
        assert parse_cache.entry_key("raw/plan.txt", "ab" * 32) == before
        target = code / changed if changed.split("/")[0] in parse_cache.PARSER_CODE_DIRS else tmp_path / changed
        target.write_bytes(target.read_bytes() + b"\n")
        parse_cache.parser_fingerprint.cache_clear()
        assert parse_cache.entry_key("raw/plan.txt", "ab" * 32) != before
        # the file's name is in the plans table: another name, another key; another folder, the same
        assert parse_cache.entry_key("raw/other.txt", "ab" * 32) != parse_cache.entry_key("raw/plan.txt", "ab" * 32)
        assert parse_cache.entry_key("copy/plan.txt", "ab" * 32) == parse_cache.entry_key("raw/plan.txt", "ab" * 32)
    finally:
        parse_cache.parser_fingerprint.cache_clear()
