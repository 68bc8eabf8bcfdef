"""A corpus's parser warnings: kept by each batch where it is parsed, summed up by the flow."""

from __future__ import annotations

import logging

from corpus import write_corpus
from helpers import PLAN_FILE

from flows import parse_warnings
from flows.parse_tasks import parse_batch
from kehoach.parse.cache import ParseCache
from kehoach.parse.corpus import source_keys
from kehoach.parse.plan import parse_source
from kehoach.read.sources import read_source


def test_a_batch_keeps_the_warnings_the_parser_gives_and_prints_none(tmp_path, caplog):
    write_corpus(PLAN_FILE, tmp_path / "plans", 3)
    paths = sorted(str(p) for p in (tmp_path / "plans").glob("*.txt"))
    sources = [read_source(p) for p in paths]
    with caplog.at_level(logging.WARNING):
        for source in sources:  # the parser alone: its warnings printed, as for one plan
            parse_source(source)
    printed = [r.getMessage() for r in caplog.records if r.name.startswith("kehoach.")]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        keys = source_keys(sources)
        kept = parse_batch.fn(paths, [s.sha256 for s in sources], keys, str(tmp_path / "cache"))
    assert kept == printed and len(printed) >= len(paths)  # the plan warns at least once: each copy does
    assert [r for r in caplog.records if r.name.startswith("kehoach.")] == []
    # each source's entry written where it was parsed: one plan each
    assert [ParseCache(tmp_path / "cache").load(key).tables["plans"].num_rows for key in keys] == [1, 1, 1]

    assert parse_warnings.summary(kept, len(kept)) == kept  # few: each one
    # the plan cites 'Đề án 06' twice, which two documents could be: each copy says so twice
    lines = parse_warnings.summary(kept, 1)
    assert lines[0].startswith(f"the parse gave {len(kept)} warnings, of ")
    assert lines[1].startswith(f"{2 * len(paths)} × reference 'Đề án 06' names no single known document "
                               f"(first at {paths[0]}:")


def test_warnings_are_summed_up_by_kind_the_most_frequent_first():
    warnings = ["a.txt:1: x", "a.txt:7: y", "b.txt:3: y", "c.txt:2: x: y", "no place given"]
    assert parse_warnings.summary(warnings, 2) == [
        "the parse gave 5 warnings, of 4 kind(s):",
        "2 × y (first at a.txt:7)",
        "1 × x (first at a.txt:1)",
        "… and 2 more kind(s): 2 warning(s)",
    ]
