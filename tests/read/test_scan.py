"""A plan whose pages are scans reads by OCR, and what OCR misreads is flagged (kehoach/read/ocr.py).

The plan of raw/ is written as a text PDF (tests/pdf_renderer.py) and a few of
its appendix pages replaced by scans of themselves (skewed about 1°, specks
and blur, the middle one turned 90° as a sheet-feed scanner does): a document
mixing text pages and image pages, as provinces publish them. OCR is slow, so
only two task pages and the first two pages of the budget appendix are scanned here;
`make bench` reads a scan of every page.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from pdf_renderer import page_texts, scan, text_pdf

from kehoach.audit.runner import run_audit
from kehoach.package.landing import render_page
from kehoach.parse.plan import parse_source
from kehoach.read.document import render
from kehoach.read.pdf import read_pdf
from kehoach.read.sources import SourceText

PROVENANCE = {"source_line", "source_page", "needs_review", "ocr_confidence"}
pytestmark = pytest.mark.ocr  # tesseract reads a few scanned pages: tens of seconds
# what the package writer tells the landing page of the package (its title, version, address)
PACKAGE = {"title_vi": "Kế hoạch", "title_en": "Plan", "version": "1.0.0", "created": "2026-01-01T00:00:00Z",
           "homepage": "http://127.0.0.1:8000/plan/"}


def tables_of(document):
    rendering = render(document)
    source = SourceText("plan.pdf", "0" * 64, 1, "pdf", {}, None, lines=rendering.lines,
                        line_pages=rendering.pages, line_confidences=rendering.confidences)
    return parse_source(source), rendering


@pytest.fixture(scope="module")
def documents(plan_source):
    pdf, _ = text_pdf(plan_source.lines, plan_source.path, "Bản điện tử")
    titles = [line for line in plan_source.lines if line.startswith("PHỤ LỤC")]
    starts = [next(n for n, text in enumerate(page_texts(pdf), 1) if title in text) for title in titles]
    # two full pages of the task appendix; the first two of the budget appendix (its three-row merged
    # header, repeated on the second, which is turned)
    pages = [starts[0] + 1, starts[0] + 2, starts[1], starts[1] + 1]
    return read_pdf(pdf, "plan.pdf"), read_pdf(scan(pdf, pages), "scan.pdf"), pages


@pytest.fixture(scope="module")
def read(documents):
    text, scanned, pages = documents
    return tables_of(text), tables_of(scanned), pages


def test_only_the_image_pages_are_read_by_ocr(documents, read):
    _, scanned, pages = documents
    _, (_, rendering), _ = read
    assert scanned.format == "scanned-pdf" and "tesseract" in scanned.reader
    assert scanned.notes[0].startswith(f"{len(pages)} of {scanned.pages} pages read by OCR")
    on_text_pages = [c for p, c in zip(rendering.pages, rendering.confidences, strict=True) if p not in pages]
    on_scans = [c for p, c in zip(rendering.pages, rendering.confidences, strict=True) if p in pages]
    assert on_text_pages and all(c is None for c in on_text_pages)
    assert any(c is not None for c in on_scans)


def without_provenance(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in PROVENANCE}


def test_task_rows_of_the_scanned_pages_are_read_exactly(read):
    (text, _), (scanned, _), pages = read
    expected = [without_provenance(r) for r in text["tasks"].to_pylist() if r["source_page"] in pages]
    got = [without_provenance(r) for r in scanned["tasks"].to_pylist() if r["source_page"] in pages]
    exact = sum(1 for row in expected if row in got)
    assert len(expected) > 30 and exact >= 0.95 * len(expected), (exact, len(expected))


def test_every_budget_amount_is_exact_or_flagged(read):
    (text, _), (scanned, _), pages = read
    key = ("item_code", "budget_level", "expenditure_type")
    got = {tuple(r[k] for k in key): r for r in scanned["budget_lines"].to_pylist()}
    expected = [r for r in text["budget_lines"].to_pylist() if r["source_page"] in pages]
    assert len(expected) > 20
    missed = [r for r in expected if (found := got.get(tuple(r[k] for k in key))) is None
              or (found["amount_million_vnd"] != r["amount_million_vnd"] and not found["needs_review"])]
    assert not missed
    # and no amount read wrong goes unflagged anywhere on the scanned pages
    by_key = {tuple(r[k] for k in key): r for r in text["budget_lines"].to_pylist()}
    for row in scanned["budget_lines"].to_pylist():
        written = by_key.get(tuple(row[k] for k in key), {}).get("amount_million_vnd")
        if row["source_page"] in pages and written != row["amount_million_vnd"]:
            assert row["needs_review"], row


def test_flagged_rows_carry_their_confidence_and_the_landing_page_lists_them(read):
    (_, _), (scanned, _), pages = read
    flagged = [(name, r) for name, t in scanned.items() if "needs_review" in t.column_names
               for r in t.to_pylist() if r["needs_review"]]
    assert all(r["source_page"] in pages and r["ocr_confidence"] < Decimal(80) for _, r in flagged)
    audited = run_audit(scanned).tables
    html = render_page(audited, [], "1.0.0", PACKAGE)
    assert flagged  # the specks and the blur leave some values doubtful
    assert "Rows to check against the document (read by OCR)" in html
    name, row = flagged[0]
    assert f"<code>{name}</code>, dòng / line {row['source_line']}, trang / page {row['source_page']}" in html
