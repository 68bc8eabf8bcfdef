"""What OCR damages in a plan's narrative and unit lines is still read, on lines OCR read only
(kehoach/parse/heading_roles.py, narrative/outline.py, appendix_blocks.py).

A small plan of the family with a narrative, its lines given confidences as a scan's rendering gives
them, and what tesseract misread on a scan of the plan of raw/: a section heading's numeral lost
('. CĂN CỨ LẬP KẾ HOẠCH'), an area's stop read as a comma ('1, Kinh tế số'), the unit line of its budget
appendix read 'ĐĐVI: Tỷ đồng' (its label doubled and misread); and the same text with no confidences (a text
document, read by numbering and exact labels as ever).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sample_plans import OTHER_PLAN

from kehoach.parse.plan import parse_source
from kehoach.read.sources import SourceText

SURE = 95.0  # above the review threshold: only the tolerant reading can flag a row
NARRATIVE = """\
Phần II
NỘI DUNG KẾ HOẠCH NĂM 2025
. CĂN CỨ LẬP KẾ HOẠCH
- Quyết định số 749/QĐ-TTg ngày 03/6/2020 của Thủ tướng Chính phủ phê duyệt Chương trình chuyển đổi số quốc gia;
- Nghị quyết số 01/NQ-CP ngày 06/01/2025 của Chính phủ về nhiệm vụ năm 2025;
II. MỤC TIÊU
Hoàn thành các nhiệm vụ chuyển đổi số năm 2025.
III. NHIỆM VỤ
1, Kinh tế số
- Phát triển thương mại điện tử.
"""
SIGNATURE = "| KT. CHỦ TỊCH | PHÓ CHỦ TỊCH |"


def scanned_text() -> tuple[str, ...]:
    text = OTHER_PLAN.replace(SIGNATURE, NARRATIVE + SIGNATURE, 1).replace("ĐVT: Tỷ đồng", "ĐĐVI: Tỷ đồng", 1)
    return tuple(text.splitlines())


def parsed(lines: tuple[str, ...], confidences: tuple[float | None, ...] | None) -> dict:
    source = SourceText("scan.pdf", "", 1, "pdf", {}, None, lines=lines, line_confidences=confidences,
                        line_pages=None if confidences is None else (1,) * len(lines))
    return parse_source(source)


@pytest.fixture(scope="module")
def scanned():
    lines = scanned_text()
    return lines, parsed(lines, (SURE,) * len(lines))


def test_a_section_heading_whose_numeral_ocr_lost_is_read_by_its_words(scanned):
    lines, tables = scanned
    heading = lines.index(". CĂN CỨ LẬP KẾ HOẠCH") + 1
    sections = {r["section_id"]: r for r in tables["sections"].to_pylist()}
    bases = sections["II.I"]
    assert (bases["kind"], bases["label"], bases["heading"], bases["role"]) == \
        ("section", "I", "CĂN CỨ LẬP KẾ HOẠCH", "legal_bases")
    assert bases["source_line"] == heading and bases["needs_review"]
    assert sections["II"]["heading"] == "NỘI DUNG KẾ HOẠCH NĂM 2025"  # not the part's title
    assert sections["II.II"]["role"] == "objectives" and not sections["II.II"]["needs_review"]
    legal = tables["legal_bases"].to_pylist()
    assert [(r["doc_id"], r["section_id"], r["source_line"]) for r in legal] == \
        [("749-qd-ttg-2020", "II.I", heading + 1), ("01-nq-cp-2025", "II.I", heading + 2)]


def test_an_area_whose_stop_ocr_read_as_a_comma_is_an_area(scanned):
    lines, tables = scanned
    area = next(r for r in tables["sections"].to_pylist() if r["section_id"] == "II.III.1")
    assert (area["kind"], area["heading"], area["pillar"]) == ("area", "Kinh tế số", "economy")
    assert area["source_line"] == lines.index("1, Kinh tế số") + 1 and area["needs_review"]
    action = tables["plan_actions"].to_pylist()
    assert [(r["pillar"], r["area_label"], r["text"]) for r in action] == \
        [("economy", "1", "Phát triển thương mại điện tử.")]


def test_a_unit_label_ocr_misread_is_read_when_a_known_unit_follows(scanned):
    _, tables = scanned
    amounts = sorted(r["amount_million_vnd"] for r in tables["budget_lines"].to_pylist())
    assert amounts[0] == Decimal("1500")  # 1,5 billion VND, not 1,5 million


def test_a_text_document_is_read_by_numbering_and_exact_labels():
    tables = parsed(scanned_text(), None)
    assert tables["legal_bases"].num_rows == 0
    assert not any(r["section_id"] == "II.III.1" for r in tables["sections"].to_pylist())
    assert "CĂN CỨ LẬP KẾ HOẠCH" in next(r["heading"] for r in tables["sections"].to_pylist()
                                         if r["section_id"] == "II")
    assert sorted(r["amount_million_vnd"] for r in tables["budget_lines"].to_pylist())[0] == Decimal("1.5")
