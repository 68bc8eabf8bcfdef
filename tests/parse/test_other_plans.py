"""A plan of the same family from another province, written in the test.

Other areas, other numbering (roman appendix labels, 'STT'), a cooperating
agencies column, amounts in billion VND, an unknown district: it must parse
without code changes.
"""

from datetime import date
from decimal import Decimal

import pytest
from helpers import one, rows, write_plan
from sample_plans import OTHER_PLAN

from kehoach.core.errors import KehoachError
from kehoach.parse.plan import parse_source
from kehoach.read.sources import read_source


@pytest.fixture(scope="module")
def other(tmp_path_factory):
    path = write_plan(tmp_path_factory.mktemp("other"), OTHER_PLAN, "bdi-45-KH-UBND-2025.txt")
    return parse_source(read_source(path))


def test_header_of_another_province(other):
    plan = one(other, "plans")
    assert plan["plan_id"] == "binh-dinh-45-kh-ubnd-2025"
    assert plan["issuer"] == "Ủy ban nhân dân tỉnh Bình Định"
    # the official code of Bình Định on its issue date (5 Jan 2025, before the 1 July 2025 mergers)
    assert plan["province"] == "Bình Định" and plan["province_code"] == "52"
    assert plan["issued_date"] == date(2025, 1, 5)
    assert plan["plan_year"] == 2025
    assert plan["signer_title"] == "KT. CHỦ TỊCH PHÓ CHỦ TỊCH"


def test_tasks_with_a_cooperating_column(other):
    assert [t["task_code"] for t in other["tasks"].to_pylist()] == ["1.1", "1.2", "2.1"]
    task = one(other, "tasks", task_code="1.1")
    assert task["pillar"] == "government" and task["partners_text"] == "Sở Nội vụ, UBND huyện Hoài Ân"
    assert (task["deadline_kind"], task["deadline_date"]) == ("quarter", date(2025, 12, 31))
    mentions = [(m["role"], m["mention"], m["agency_id"]) for m in rows(other, "task_agencies", task_code="1.1")]
    assert mentions == [
        ("lead", "Sở Thông tin và Truyền thông", "binh-dinh.so-tttt"),
        ("partner", "Sở Nội vụ", "binh-dinh.so-nv"),
        # a district of Bình Định on the issue date, from the official code list (reference/district_units.csv)
        ("partner", "UBND huyện Hoài Ân", "binh-dinh.huyen-hoai-an-544"),
    ]
    district = one(other, "agencies", agency_id="binh-dinh.huyen-hoai-an-544")
    assert (district["admin_code"], district["level"], district["valid_to"]) == ("544", "district", date(2025, 6, 30))
    assert one(other, "tasks", task_code="2.1")["deadline_date"] == date(2026, 12, 31)


def test_province_templates_are_instantiated_for_the_new_province(other):
    agency = one(other, "agencies", agency_id="binh-dinh.so-tttt")
    assert agency["name_vi"] == "Sở Thông tin và Truyền thông tỉnh Bình Định"
    # Quảng Ngãi's own districts are not offered to a Bình Định plan.
    assert not [a for a in other["agencies"].to_pylist() if a["agency_id"].startswith("quang-ngai")]


def test_budget_in_billion_vnd_without_level_split(other):
    line = one(other, "budget_lines", item_code="1.1")
    assert (line["budget_level"], line["expenditure_type"]) == ("unspecified", "recurrent")
    assert line["amount_million_vnd"] == Decimal("1500")  # 1,5 tỷ đồng
    assert line["amount_text"] == "1,5"
    grand = {r["expenditure_type"]: r["amount_million_vnd"] for r in rows(other, "budget_stated_totals", scope="grand")}
    assert grand == {"recurrent": Decimal("1500"), "investment": Decimal("2000")}
    assert one(other, "pillars", pillar_id="economy")["name_in_plan"] == "Kinh tế số"


def test_related_year_less_document_merges_with_its_dated_citation(other):
    # The related list names 'Nghị quyết 01/NQ-CP' without a year; the text cites it 'ngày 06/01/2025'.
    assert not rows(other, "documents", doc_id="01-nq-cp")
    doc = one(other, "documents", doc_id="01-nq-cp-2025")
    assert (doc["year"], doc["issued_date"]) == (2025, date(2025, 1, 6))
    assert doc["title"].startswith("Nghị quyết 01/NQ-CP về nhiệm vụ")
    assert {r["relation"] for r in rows(other, "plan_documents", doc_id="01-nq-cp-2025")} == {"related", "cited"}
    assert one(other, "documents", doc_id="749-qd-ttg-2020")["issuer"] == "Thủ tướng Chính phủ"


def test_an_unknown_column_is_a_clear_error(tmp_path):
    text = OTHER_PLAN.replace("Cơ quan phối hợp", "Ghi chú đặc biệt")
    path = write_plan(tmp_path, text)
    with pytest.raises(KehoachError) as err:
        parse_source(read_source(path))
    assert str(err.value).startswith(f"{path}:13: unknown column header 'Ghi chú đặc biệt'")


def test_a_missing_header_is_a_clear_error(tmp_path):
    path = write_plan(tmp_path, "Một văn bản không phải kế hoạch\nkhông có số hiệu\n")
    with pytest.raises(KehoachError, match=r":1: no document header"):
        parse_source(read_source(path))


def test_cells_out_of_step_are_caught(tmp_path):
    # Dropping one empty-cell line shifts every following cell of the table.
    lines = OTHER_PLAN.split("\n")
    index = lines.index("1.2 | Triển khai nền tảng B | Sở Y tế |") + 1
    del lines[index]
    path = write_plan(tmp_path, "\n".join(lines))
    with pytest.raises(KehoachError) as err:
        parse_source(read_source(path))
    assert f"{path}:" in str(err.value)
    assert "row" in str(err.value)
