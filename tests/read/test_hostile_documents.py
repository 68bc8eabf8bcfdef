"""Fuzzing the document readers (issue 24): a damaged .docx, .odt, .pdf or .html ends in a package or one
located line, never in another exception; through the CLI, exit status 2 and nothing written.

A seeded slice of ``tests/document_mutator.py`` (the larger run is ``scripts/fuzz.py --document KIND``): the
same files every run, so a failure is reproduced by its kind, seed and index.
"""

from __future__ import annotations

import logging

import pytest
from document_mutator import KINDS, document_outcome, document_variants, issued_as
from sample_plans import OTHER_PLAN

from kehoach.read.sources import split_lines

# Small enough for the fast suite (each variant is read, parsed and audited); the same inputs every run.
SEED, COUNT = 24, 30


@pytest.fixture(autouse=True)
def _quiet(caplog):
    caplog.set_level(logging.CRITICAL)  # a damaged document makes the parser warn a lot


@pytest.fixture(scope="module")
def issued() -> dict[str, bytes]:
    return {kind: issued_as(kind, split_lines(OTHER_PLAN)) for kind in KINDS}


@pytest.mark.parametrize("kind", KINDS)
def test_every_damaged_document_ends_in_a_package_or_one_located_line(kind, issued, tmp_path, monkeypatch):
    # A PDF page whose text the damage removed is a scan to the reader; without tesseract on the PATH it is
    # refused on its page, as on a machine without OCR (reading damaged scans is the ocr suite's and
    # scripts/fuzz.py's: seconds a page).
    monkeypatch.setenv("PATH", str(tmp_path))
    kinds: dict[str, int] = {}
    broken = []
    for variant in document_variants(issued[kind], kind, SEED, COUNT):
        result = document_outcome(variant.data, tmp_path / f"plan.{kind}")
        kinds[result.kind] = kinds.get(result.kind, 0) + 1
        if not result.ok:
            broken.append(f"{kind} {variant.seed}:{variant.index} {variant.mutation}: {result.kind} {result.detail}")
    assert broken == []
    assert kinds.get("located", 0) > 0


def test_the_document_mutator_is_deterministic_and_mutates(issued):
    first = [v.data for v in document_variants(issued["docx"], "docx", SEED, 6)]
    assert first == [v.data for v in document_variants(issued["docx"], "docx", SEED, 6)]
    assert len(set(first)) == 6 and issued["docx"] not in first
