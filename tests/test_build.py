"""Combining parsed sources into the corpus (``kehoach.build.parsed``, ``combine``)."""

from __future__ import annotations

import pytest
from corpus import write_corpus
from helpers import PLAN_FILE, write_plan
from sample_plans import OTHER_PLAN

from kehoach import build
from kehoach.core.errors import KehoachError
from kehoach.parse.plan import parse_source
from kehoach.read.sources import read_source


def _parsed(paths):
    return build.parsed([str(p) for p in paths], [parse_source(read_source(p)) for p in paths])


def test_batches_combine_to_the_tables_of_one_pass(tmp_path):
    corpus = write_corpus(PLAN_FILE, tmp_path / "corpus", 3)
    other = write_plan(tmp_path, OTHER_PLAN, "other.txt")
    paths = [*corpus, other]
    whole = build.combine([_parsed(paths)])
    batched = build.combine([_parsed(paths[:1]), _parsed(paths[1:3]), _parsed(paths[3:])])
    assert {n: t.to_pylist() for n, t in batched.items()} == {n: t.to_pylist() for n, t in whole.items()}
    assert len(whole["plans"]) == 4
    # code lists shared by the plans are kept once, the first plan's row first
    doc_ids = whole["documents"].column("doc_id").to_pylist()
    assert len(doc_ids) == len(set(doc_ids))


def test_a_plan_given_by_two_sources_in_two_batches_is_refused(tmp_path):
    first = write_plan(tmp_path, OTHER_PLAN, "a.txt")
    second = write_plan(tmp_path, OTHER_PLAN, "b.txt")
    with pytest.raises(KehoachError) as error:
        build.combine([_parsed([first]), _parsed([second])])
    plan_id = build.combine([_parsed([first])])["plans"].column("plan_id")[0].as_py()
    assert error.value.message == f"plan {plan_id} is given by more than one source: {first}, {second}"
