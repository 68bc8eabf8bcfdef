"""A plan whose pages are scans reads by OCR, and what OCR misreads is flagged (kehoach/read/ocr.py).

The plan of raw/ is written as a text PDF (tests/pdf_renderer.py) and a few of
its appendix pages replaced by scans of themselves (skewed about 1°, specks
and blur, the middle one turned 90° as a sheet-feed scanner does): a document
mixing text pages and image pages, as provinces publish them. A page is scanned
as it is in the scan of the whole plan (its noise depends on its number), so
the pages chosen here, by what they hold, are read as `make bench` reads them
on its scan of every page (where the figures of the whole plan are measured:
tests/scan_quality.py): the first page of the task appendix (its header and its
first group's name), the task pages citing a document of the ministry whose
code is a run of T's ('BTTTT': their crossbars run together like a rule), and
the first two of the budget appendix (its three-row merged header, whose name
label a scan of the whole plan misread, repeated on the second).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from pdf_renderer import FONT_DIR, page_texts, scan, text_pdf
from PIL import Image, ImageDraw, ImageFont
from scan_quality import scan_quality

from kehoach.audit.runner import run_audit
from kehoach.package.landing import render_page
from kehoach.parse.plan import parse_source
from kehoach.read.document import render
from kehoach.read.ocr import _WORDS, _read_stacked
from kehoach.read.ocr_words import Doubt, read_words_again
from kehoach.read.page_layout import Line
from kehoach.read.pdf import read_pdf
from kehoach.read.sources import SourceText

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
    texts = page_texts(pdf)
    titles = [line for line in plan_source.lines if line.startswith("PHỤ LỤC")]
    starts = [next(n for n, text in enumerate(texts, 1) if title in text) for title in titles]
    tasks = range(starts[0], starts[1])
    runs_of_t = [n for n in tasks if re.search(r"\bB?TTTT\b", texts[n - 1])]
    pages = sorted({starts[0], *runs_of_t, starts[1], starts[1] + 1})
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
    on_text_pages = [(p, c) for p, c in zip(rendering.pages, rendering.confidences, strict=True) if p not in pages]
    on_scans = [c for p, c in zip(rendering.pages, rendering.confidences, strict=True) if p in pages]
    # a line of a text page has no confidence, but for a row the page's foot cut and a scanned page goes on with
    assert on_text_pages and all(c is None or p + 1 in pages for p, c in on_text_pages)
    assert sum(c is None for _, c in on_text_pages) > 0.9 * len(on_text_pages)
    assert any(c is not None for c in on_scans)


@pytest.fixture(scope="module")
def quality(read):
    (text, _), (scanned, _), pages = read
    return scan_quality({n: text[n].to_pylist() for n in ("tasks", "budget_lines")},
                        {n: scanned[n].to_pylist() for n in ("tasks", "budget_lines")}, set(pages))


def test_every_task_row_of_the_scanned_pages_is_read_under_its_number_and_group(read):
    (text, _), (scanned, _), pages = read

    def numbers(tables):
        return [(r["task_code"], r["group_no"], r["pillar"]) for r in tables["tasks"].to_pylist()
                if r["source_page"] in pages]
    assert len(numbers(text)) > 30 and numbers(scanned) == numbers(text)


def test_task_rows_of_the_scanned_pages_are_read_exactly(quality):
    # These pages are those a scan of the whole plan misread most; 95 % is the measure of the
    # whole plan (make bench: tests/scan_quality.py). Here: all but a tenth of the rows exact.
    assert quality.tasks > 30 and quality.tasks_share >= 0.9, quality.line()


def test_every_budget_amount_is_exact_or_flagged(quality):
    assert quality.amounts > 20
    assert quality.amounts_exact + quality.amounts_flagged == quality.amounts, quality.line()
    assert not quality.wrong  # and no amount read on the scanned pages is wrong and unflagged


def test_flagged_rows_carry_their_confidence_and_the_landing_page_lists_them(read):
    (_, _), (scanned, _), pages = read
    flagged = [(name, r) for name, t in scanned.items() if "needs_review" in t.column_names
               for r in t.to_pylist() if r["needs_review"]]
    assert all(r["source_page"] in pages and r["ocr_confidence"] is not None for _, r in flagged)
    audited = run_audit(scanned).tables
    html = render_page(audited, [], "1.0.0", PACKAGE)
    assert flagged  # the specks and the blur leave some values doubtful
    assert "Rows to check against the document (read by OCR)" in html
    name, row = flagged[0]
    assert f"<code>{name}</code>, dòng / line {row['source_line']}, trang / page {row['source_page']}" in html


def test_a_doubtful_word_is_read_again_by_itself_and_the_surer_reading_kept():
    # a line as tesseract gave it on the scan of the whole plan: 'cung' read 'cuũng' at confidence 0
    font = ImageFont.truetype(FONT_DIR + "DejaVuSans.ttf", 36)
    image = Image.new("L", (400, 80), 255)
    ImageDraw.Draw(image).text((20, 15), "tỉnh; cung cấp", font=font, fill=0)
    pixels = np.array(image)
    left = 20 + round(font.getlength("tỉnh; "))
    line = Line("tỉnh; cuũng cấp", 0, 1, 0, 1, 10, confidence=0.0)
    doubt = Doubt(line, "cuũng", 1, [93.0, 0.0, 95.0], (left, 15, round(font.getlength("cung")), 45), 0)
    read_words_again([doubt], {0: pixels}, lambda images: _read_stacked(None, images, 1, "scan.pdf", _WORDS)[1])
    assert line.text == "tỉnh; cung cấp" and line.confidence > 80
