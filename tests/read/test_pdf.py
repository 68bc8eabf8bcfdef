"""A plan issued as a text PDF reads as its text copy does (kehoach/read/pdf.py).

The PDF is written in the test from the plan of raw/ as the parser reads it
(tests/pdf_renderer.py: ruled tables with merged header cells, header rows
repeated on each page, rows split by a page break, running heads, page
numbers, a footnote at the foot), read back, rendered to the canonical text
and parsed.
"""

from __future__ import annotations

import hashlib

import pytest
from pdf_renderer import text_pdf
from reportlab.pdfgen.canvas import Canvas

from kehoach.audit.runner import run_audit
from kehoach.core.errors import KehoachError
from kehoach.parse.plan import parse_source
from kehoach.read.document import render
from kehoach.read.formats import format_of
from kehoach.read.page_layout import Line, join_lines
from kehoach.read.pdf import read_pdf
from kehoach.read.sources import SourceFile, SourceText, decode_source

HEAD = "Bản điện tử - trang"  # the running head the renderer sets on every page
PROVENANCE = {"source_line", "source_file", "source_sha256", "source_page", "needs_review", "ocr_confidence"}


def source_of(data: bytes, name: str) -> SourceText:
    """A PDF's bytes as the source reader reads them (told by content, rendered, with each line's page)."""
    return decode_source(SourceFile(name, hashlib.sha256(data).hexdigest(), len(data), data=data))


@pytest.fixture(scope="module")
def plan_pdf(plan_source):
    return text_pdf(plan_source.lines, plan_source.path, HEAD)


@pytest.fixture(scope="module")
def pdf_document(plan_pdf):
    return read_pdf(plan_pdf[0], "plan.pdf")


def without_provenance(tables) -> dict[str, list[dict]]:
    return {name: [{k: v for k, v in row.items() if k not in PROVENANCE and not k.endswith("_line")}
                   for row in table.to_pylist()] for name, table in tables.items()}


def test_the_rendered_pdf_has_what_a_issued_pdf_has(plan_pdf, pdf_document):
    _, writer = plan_pdf
    assert writer.split_rows > 0 and writer.repeated_headers > 0 and writer.page > 10
    assert format_of(plan_pdf[0]).name == "pdf"
    assert pdf_document.format == "pdf" and pdf_document.pages == writer.page
    assert pdf_document.reader.startswith("pdfplumber ")


def test_text_pdf_tables_and_findings_are_the_text_copys(plan_source, plan_tables, pdf_document):
    rendering = render(pdf_document)
    source = SourceText("plan.pdf", "0" * 64, 1, "pdf", {}, None, lines=rendering.lines)
    tables = parse_source(source)
    assert without_provenance(tables) == without_provenance(plan_tables)
    findings = [(f["rule_id"], f["row_key"], f["actual"]) for f in
                run_audit(tables).tables["findings"].to_pylist()]
    expected = [(f["rule_id"], f["row_key"], f["actual"]) for f in
                run_audit(plan_tables).tables["findings"].to_pylist()]
    assert findings == expected


def test_margins_are_out_of_the_body_and_footnotes_kept_as_footnotes(plan_source, pdf_document):
    rendering = render(pdf_document)
    assert not any(HEAD.casefold() in line.casefold() for line in rendering.lines)
    assert not any(line.strip().isdigit() for line in rendering.lines)  # page numbers
    notes = [b for b in pdf_document.blocks if getattr(b, "footnote", False)]
    written = [line for line in plan_source.lines if line.startswith("[") and line[1:2].isdigit()]
    assert [n.text for n in notes] == written and notes
    assert rendering.lines[-len(notes):] == tuple(written)


def test_rows_carry_their_page(pdf_document):
    rendering = render(pdf_document)
    table_pages = [p for line, p in zip(rendering.lines, rendering.pages, strict=True) if "|" in line]
    assert None not in table_pages and table_pages == sorted(table_pages) and len(set(table_pages)) > 5
    source = SourceText("plan.pdf", "0" * 64, 1, "pdf", {}, None, lines=rendering.lines,
                        line_pages=rendering.pages, line_confidences=rendering.confidences)
    tables = parse_source(source)
    for name in ("tasks", "budget_lines", "investments", "sections"):
        rows = tables[name].to_pylist()
        assert rows and all(r["source_page"] == rendering.pages[r["source_line"] - 1] for r in rows)
        assert all(r["needs_review"] is False and r["ocr_confidence"] is None for r in rows)  # read from text
    pages = [r["source_page"] for r in tables["tasks"].to_pylist()]
    assert pages == sorted(pages) and pages[0] < pages[-1]


def test_a_break_after_a_dash_or_slash_joins_by_the_document_number_pattern():
    def line(text, space=None):
        return Line(text, 0, 10, 0, 10, 10, trailing_space=space)

    assert join_lines([line("Tờ trình số 2474/TTr-"), line("STTTT ngày 30/11/2023")]) == \
        "Tờ trình số 2474/TTr-STTTT ngày 30/11/2023"
    assert join_lines([line("ngày 06/"), line("12/2023")]) == "ngày 06/12/2023"
    assert join_lines([line("kinh tế -"), line("xã hội")]) == "kinh tế - xã hội"
    assert join_lines([line("Phát triển kinh tế-"), line("xã hội")]) == "Phát triển kinh tế- xã hội"
    # where the PDF says what ends the line, it is believed: a real space stays, a word broken at '-' joins
    assert join_lines([line("Công văn số 4824/UBND- ", True), line("KGVX")]) == "Công văn số 4824/UBND- KGVX"
    assert join_lines([line("LĐ-", False), line("TB&XH")]) == "LĐ-TB&XH"


@pytest.fixture(scope="module")
def small_pdf(plan_source):
    """The first tens of lines of the plan: a few pages, for the bad-input cases."""
    return text_pdf(plan_source.lines[:120], plan_source.path, HEAD)[0]


@pytest.mark.parametrize("damage", ["truncated", "flipped", "garbage"])
def test_a_damaged_pdf_is_one_located_error(small_pdf, damage):
    data = {"truncated": small_pdf[:len(small_pdf) // 3],
            "flipped": bytes(b ^ 0xFF if 200 < i < len(small_pdf) - 200 and i % 7 == 0 else b
                             for i, b in enumerate(small_pdf)),
            "garbage": b"%PDF-1.7\n" + bytes(range(256)) * 40}[damage]
    with pytest.raises(KehoachError) as caught:
        read_pdf(data, "plan.pdf")
    message = str(caught.value)
    assert message.startswith("plan.pdf: page ") and "\n" not in message


def test_an_encrypted_pdf_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "secret.pdf"
    canvas = Canvas(str(path), encrypt="mật khẩu")
    canvas.drawString(72, 720, "KE HOACH")
    canvas.save()
    with pytest.raises(KehoachError, match=r"^secret\.pdf: page 1: the PDF is encrypted"):
        read_pdf(path.read_bytes(), "secret.pdf")


def test_a_pdf_beyond_the_page_limit_is_refused_before_reading(small_pdf, monkeypatch):
    monkeypatch.setenv("KEHOACH_MAX_PDF_PAGES", "2")
    with pytest.raises(KehoachError, match=r"^plan\.pdf: page 3: the PDF has \d+ pages, more than 2 "):
        read_pdf(small_pdf, "plan.pdf")
