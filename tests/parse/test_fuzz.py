"""Fuzzing (issue 11): hostile texts end in a package or one located error.

A seeded slice of the mutator in ``tests/mutator.py`` (the larger run is
``scripts/fuzz.py``), plus Hypothesis properties of the value readers. The
invariants: a package or a located error (``FILE:LINE`` inside the file); no
exception type but ``KehoachError`` escapes; every input is bounded in size.
"""

from __future__ import annotations

import logging

import pytest
from helpers import plan_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutator import MAX_CHARS, MUTATIONS, outcome, variants

from kehoach.core.errors import KehoachError
from kehoach.parse.values import check_amount, parse_amount, parse_deadline, parse_number

# Small enough for the inner loop (5 s of CPU); the same inputs every run, every mutation among them
# (asserted below). The larger run is scripts/fuzz.py.
SEED, COUNT = 12, 60


@pytest.fixture(autouse=True)
def _quiet(caplog):
    caplog.set_level(logging.CRITICAL)  # hostile input makes the parser warn a lot


def test_every_hostile_variant_ends_in_a_package_or_a_located_error(tmp_path):
    path = tmp_path / "plan.txt"
    kinds: dict[str, int] = {}
    broken = []
    mutations: set[str] = set()
    for variant in variants(plan_text(), SEED, COUNT):
        assert len(variant.text) <= MAX_CHARS
        mutations.update(variant.mutations)
        result = outcome(variant.text, path)
        kinds[result.kind] = kinds.get(result.kind, 0) + 1
        if not result.ok:
            broken.append(f"{variant.seed}:{variant.index} {'+'.join(variant.mutations)}: {result.kind} "
                          f"{result.detail}")
    assert broken == []
    assert kinds.get("package", 0) > 0 and kinds.get("located", 0) > 0  # the mutator exercises both
    assert mutations == set(MUTATIONS)  # fewer variants, but every kind of damage among them


def test_the_mutator_is_deterministic():
    first = [v.text for v in variants(plan_text(), SEED, 5)]
    assert first == [v.text for v in variants(plan_text(), SEED, 5)]
    assert len(set(first)) == 5


_cells = st.text(alphabet=st.sampled_from("0123456789.,-–/ QuýIVNămnămtháng\u00a0"), max_size=60)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cells)
def test_amount_cells_are_read_or_refused_with_a_message(text):
    try:
        amount = parse_amount(text)
    except KehoachError as exc:
        assert exc.message
        return
    if amount.value is None:
        return
    try:
        assert check_amount(amount.value) == amount.value
    except KehoachError as exc:
        assert "the schemas' limit" in exc.message


@settings(max_examples=300, deadline=None)
@given(_cells)
def test_deadline_cells_are_read_or_refused_with_a_message(text):
    try:
        deadline = parse_deadline(text)
    except KehoachError as exc:
        assert exc.message
        return
    assert deadline.kind


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"\A[0-9]{1,6000}(,[0-9]{1,40})?\Z"))
def test_numbers_of_any_length_are_read_or_refused(text):
    try:
        value = parse_number(text)
    except KehoachError as exc:
        assert "digits" in exc.message
        return
    assert value >= 0
