"""A header label or group name OCR misread in a tone mark is matched with its accents folded, on lines read
by OCR only, and what was matched so is flagged for review (kehoach/parse/table_header.py, pillars.py).

The plan of raw/ with one budget header label and one task group name written as tesseract read them on a
scan of it ('Nội dụng nhiệm vụ', 'Thế chế số'), every line given an OCR confidence (as a scan's rendering
gives them), and the same text with no confidences (a text document, matched exactly as ever).
"""

from __future__ import annotations

import dataclasses

import pytest

from kehoach.audit.runner import run_audit
from kehoach.core.errors import KehoachError
from kehoach.core.model import rows_to_arrow
from kehoach.package.landing import render_page
from kehoach.parse.plan import parse_source
from kehoach.parse.table_header import classify_label
from kehoach.parse.table_reader import read_table

SURE = 95.0  # above the review threshold: only the tolerant match can flag a row
# what the package writer tells the landing page of the package (its title, version, address)
PACKAGE = {"title_vi": "Kế hoạch", "title_en": "Plan", "version": "1.0.0", "created": "2026-01-01T00:00:00Z",
           "homepage": "http://127.0.0.1:8000/plan/"}


def misread(plan_source):
    """The plan with the budget header's name label and a group name misread, and the two lines' numbers."""
    lines = list(plan_source.lines)
    header = next(n for n, line in enumerate(lines) if line.startswith("TT |") and "Nội dung nhiệm vụ" in line)
    group = next(n for n, line in enumerate(lines) if line.split(" | ")[1:2] == ["Thể chế số |"])
    lines[header] = lines[header].replace("Nội dung nhiệm vụ", "Nội dụng nhiệm vụ")
    lines[group] = lines[group].replace("Thể chế số", "Thế chế số")
    return tuple(lines), header + 1, group + 1


@pytest.fixture(scope="module")
def scanned(plan_source):
    lines, header, group = misread(plan_source)
    source = dataclasses.replace(plan_source, lines=lines, line_confidences=(SURE,) * len(lines),
                                 line_pages=(1,) * len(lines))
    return parse_source(source), header, group


def test_a_misread_tone_in_a_header_is_matched_on_a_line_read_by_ocr(scanned, plan_tables):
    tables, _, _ = scanned
    assert tables["budget_lines"].num_rows == plan_tables["budget_lines"].num_rows
    assert tables["budget_lines"]["amount_million_vnd"].to_pylist() == \
        plan_tables["budget_lines"]["amount_million_vnd"].to_pylist()


def test_every_row_under_a_tolerated_header_is_flagged_and_no_other(scanned, plan_tables):
    tables, header, _ = scanned
    budget = tables["budget_lines"].to_pylist()
    assert budget and all(r["needs_review"] and r["source_line"] > header for r in budget)
    assert not any(tables["tasks"]["needs_review"].to_pylist())  # its header was read exactly


def test_a_misread_group_name_is_its_area_and_its_row_flagged(scanned, plan_tables):
    tables, header, group = scanned
    assert tables["tasks"]["pillar"].to_pylist() == plan_tables["tasks"]["pillar"].to_pylist()
    pillar = next(r for r in tables["pillars"].to_pylist() if r["source_line"] == group)
    assert pillar["pillar_id"] == "institutions" and pillar["name_in_plan"] == "Thế chế số"
    assert pillar["needs_review"]
    # the areas first named above the budget table (whose rows are all flagged) are not
    others = [r for r in tables["pillars"].to_pylist() if r["source_line"] != group and r["source_line"] < header]
    assert others and not any(r["needs_review"] for r in others)


def test_a_text_document_is_matched_exactly(plan_source):
    lines, header, _ = misread(plan_source)
    with pytest.raises(KehoachError, match="unknown column header 'Nội dụng nhiệm vụ'") as error:
        parse_source(dataclasses.replace(plan_source, lines=lines))
    assert error.value.line == header


def test_folding_tolerates_marks_not_letters():
    assert classify_label("Nội dụng nhiệm vụ") is None
    assert classify_label("Nội dụng nhiệm vụ", tolerant=True)[0].role == "name"
    assert classify_label("Thơi hạn hoàn thành", tolerant=True)[0].role == "deadline"
    assert classify_label("Nội dung nhiệm vự", tolerant=True)[0].role == "name"
    assert classify_label("Nội dunk nhiệm vụ", tolerant=True) is None  # a letter misread is not a mark
    year = classify_label("Năm 2O25", tolerant=True)
    assert year is None  # nor a figure: 'Năm 2024' and 'Năm 2025' stay two columns


def test_only_the_lines_read_by_ocr_are_tolerated():
    lines = ("TT | Nội dụng nhiệm vụ | Thời hạn hoàn thành |", "1 | Một việc | 2024 |")
    table = read_table(lines, 0, "scan.pdf", ocr_lines=frozenset({1}))
    assert [c.role for c in table.columns] == ["code", "name", "deadline"] and table.tolerated
    assert [c.tolerated for c in table.columns] == [False, True, False]
    with pytest.raises(KehoachError, match="unknown column header"):
        read_table(lines, 0, "scan.pdf", ocr_lines=frozenset({2}))


def test_a_flagged_rows_misread_amount_is_caught_by_the_sum_checks_and_the_landing_page_lists_it(scanned):
    tables, _, _ = scanned
    lines = tables["budget_lines"].to_pylist()
    row = next(r for r in lines if r["amount_million_vnd"] and r["amount_million_vnd"] > 100)
    assert row["needs_review"]
    row["amount_million_vnd"] += 90  # a '1' read as a '9', in the hundreds
    misread_tables = {**tables, "budget_lines": rows_to_arrow("budget_lines", lines)}
    audited = run_audit(misread_tables).tables
    caught = {f["rule_id"] for f in audited["findings"].to_pylist() if f["difference"] == -90}
    assert caught == {"budget_group_subtotal", "budget_grand_total_vs_lines"}
    html = render_page(audited, [], "1.0.0", PACKAGE)
    flagged = [(name, r) for name, t in audited.items() if "needs_review" in t.column_names
               for r in t.to_pylist() if r["needs_review"]]
    assert f"Rows to check against the document (read by OCR)</span> ({len(flagged)})" in html
    name, first = flagged[0]
    assert f"<code>{name}</code>, dòng / line {first['source_line']}, trang / page 1" in html
