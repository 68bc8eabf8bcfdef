"""Quyết định 59/QĐ-BTNMT (tests/fixtures/real): a ministry's programme with five appendices of tasks.

Its seven markdown tables carry two-level headers written in place (an empty
header cell continues the label to its left; the sub-labels in a row as wide
as the table, or in a short row), header words other than the plan of raw/
uses, roman group rows, page leftovers inside cells and 'x' marks. The values
asserted here were read off the text by hand.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from kehoach import build
from kehoach.parse.inspection import inspect_file
from kehoach.parse.plan import parse_source
from kehoach.read.sources import read_source

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
QD59 = REAL / "closest-qd59-btnmt-2024-chuong-trinh-hanh-dong.txt"


@pytest.fixture(scope="module")
def tables() -> dict[str, list[dict]]:
    return {name: t.to_pylist() for name, t in parse_source(read_source(QD59)).items()}


@pytest.fixture(scope="module")
def tasks(tables) -> dict[str, dict]:
    return {t["task_code"]: t for t in tables["tasks"]}


def mentions(tables, code: str) -> list[tuple[str, str]]:
    return [(m["role"], m["mention"]) for m in tables["task_agencies"] if m["task_code"] == code]


def test_every_appendix_gives_its_tasks(tables):
    # Counted by hand: 15 drafts, 15 proposals (2 group rows aside), 1 + 2 indicators, 1 + 2 indices,
    # 16 indicators of Phụ lục 05 (6 under group I, among them 2 with 2.1 and 2.2 under it, and 10 under II).
    assert Counter(t["appendix"] for t in tables["tasks"]) == {"01": 15, "02": 15, "03": 3, "04": 3, "05": 16}


def test_a_draft_with_one_deadline_per_submission_level(tasks, tables):
    law = tasks["01/1"]
    assert (law["name"], law["source_line"], law["task_code_text"]) == ("Luật Địa chất và Khoáng sản", 159, "1")
    assert law["agencies_text"] == "- Cục Khoáng sản Việt Nam; - Cục Địa chất Việt Nam"
    assert law["partners_text"] == "Vụ Pháp chế"
    assert law["submitted_to"] == "Bộ trưởng; Chính phủ"
    assert law["deadline_text"] == "Bộ trưởng: Tháng 02/2024; Chính phủ: Tháng 02/2024"
    assert law["deadline_date"] == date(2024, 2, 29)
    assert mentions(tables, "01/1") == [
        ("lead", "Cục Khoáng sản Việt Nam"), ("lead", "Cục Địa chất Việt Nam"), ("partner", "Vụ Pháp chế")]
    decision = tasks["01/15"]
    assert decision["name"] == "Quyết định của Thủ tướng Chính phủ về Quy chế ứng phó sự cố chất thải"
    assert decision["agencies_text"] == "Cục Kiểm soát ô nhiễm môi trường"
    assert decision["submitted_to"] == "Bộ trưởng; Thủ tướng Chính phủ"
    assert decision["deadline_date"] == date(2024, 11, 30)


def test_page_leftovers_are_not_part_of_a_name(tasks):
    assert tasks["01/8"]["name"].startswith("06/2022/NĐ-CP Nghị định sửa đổi, bổ sung một số điều")
    assert tasks["01/10"]["name"].startswith("Điều 17 của Nghị định số 65/2010/NĐCP Nghị định sửa đổi")
    assert not any("[" in t["name"] for t in tasks.values())


def test_a_proposal_marked_x_under_its_group(tasks, tables):
    survey = tasks["02/2"]
    assert survey["name"] == "Đề án “Kiểm kê đất đai, lập bản đồ hiện trạng sử dụng đất năm 2024”"
    assert (survey["group_no"], survey["submitted_to"], survey["deadline_text"]) == (2, "TTg CP", "Tháng 3")
    assert survey["agencies_text"] == "Cục Đăng ký và Dữ liệu thông tin đất đai"
    assert mentions(tables, "02/2") == [
        ("lead", "Cục Đăng ký và Dữ liệu thông tin đất đai"), ("partner", "Vụ Đất đai"),
        ("partner", "Cục Quy hoạch và Phát triển tài nguyên đất"), ("partner", "Các đơn vị khác có liên quan")]
    assert (tasks["02/1"]["group_no"], tasks["02/1"]["submitted_to"]) == (1, "Chính phủ")
    assert not any(t["name"].startswith("Nhóm nhiệm vụ") for t in tasks.values())  # group rows are not tasks


def test_indicators_with_their_targets_and_units(tasks):
    waste = tasks["03.1/1"]
    assert waste["name"] == "Tỷ lệ thu gom và xử lý chất thải rắn sinh hoạt đô thị"
    assert waste["target_text"] == "Kế hoạch năm 2024 Quốc hội giao: 95; Mục tiêu phấn đấu của Chính phủ: 95"
    assert (waste["target_unit"], waste["agencies_text"]) == ("%", "Cục Kiểm soát ONMT")
    assert (tasks["03.2/2"]["target_text"], tasks["03.2/2"]["target_unit"]) == ("Trên 600", "Công trình")
    index = tasks["04.2/1"]
    assert (index["name"], index["target_text"]) == ("Chỉ số Chất lượng môi trường (thuộc GII)", "Tăng ít nhất 10 bậc")
    assert index["agencies_text"] == "Viện Chiến lược, Chính sách TN&MT"
    assert (index["deadline_text"], index["deadline_kind"]) == ("Hằng năm", "annual")


def test_numbering_restarting_under_each_roman_group_is_qualified_by_the_group(tasks, tables):
    cut = tasks["05/I.2.1"]
    assert (cut["task_code_text"], cut["group_no"], cut["target_text"], cut["target_unit"]) == ("2.1.", 1, "10", "%")
    assert cut["agencies_text"] == "Văn phòng Bộ"
    assert mentions(tables, "05/I.2.1") == [
        ("lead", "Văn phòng Bộ"), ("partner", "Tổng cục KTTV"), ("partner", "Các Cục trực thuộc Bộ")]
    last = tasks["05/II.10"]
    assert last["name"].startswith("Mức độ hài lòng trong tiếp nhận")
    assert (last["group_no"], last["target_text"], last["source_line"]) == (2, "90", 238)


def test_the_title_ends_before_the_ministers_authority_line():
    report = inspect_file(QD59).as_dict()
    assert report["title"].endswith("nâng cao năng lực cạnh tranh quốc gia năm 2024")
    # complete, and nothing wrong but the parser's warnings (inspect lists them too: references
    # such as 'kế hoạch 05' that name no single known document)
    assert report["complete"] is True
    assert [p for p in report["problems"] if not p["message"].startswith("warning: ")] == []
    assert report["parts"]["tasks"] == 52


def test_a_ministrys_programme_builds_into_a_valid_package(tmp_path):
    # A national body's document belongs to no province: plans.province is left empty, not invented.
    out = tmp_path / "output"
    build.run_build([QD59], out)  # validates the package before swapping it in
    desc = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert desc["title_en"].startswith("Decision 59/QĐ-BTNMT of Bo Tai nguyen va Moi truong")
    with (out / "data" / "plans.csv").open(encoding="utf-8") as handle:
        plan = next(csv.DictReader(handle))
    assert (plan["number"], plan["issuer"], plan["province"]) == ("59/QĐ-BTNMT", "Bộ Tài nguyên và Môi trường", "")
    with (out / "data" / "tasks.csv").open(encoding="utf-8") as handle:
        assert sum(1 for _ in csv.DictReader(handle)) == 52
