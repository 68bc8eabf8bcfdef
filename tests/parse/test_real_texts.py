"""Real texts of the plan family as published (tests/fixtures/real; sources in tests/fixtures/README.md)."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

import pytest

from flows import cli
from kehoach.core.errors import KehoachError
from kehoach.core.model import TableBuilder, resource_names
from kehoach.parse.agencies import registry_for, report_unresolved
from kehoach.parse.appendices import TableContext, read_appendix
from kehoach.parse.appendix_blocks import appendix_starts_and_blocks, next_label
from kehoach.parse.inspection import KEYS, inspect_file
from kehoach.parse.layout import parse_document
from kehoach.parse.pillars import PillarCollector
from kehoach.parse.plan import parse_source
from kehoach.parse.table_kinds import table_kinds
from kehoach.read.sources import read_source

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
NQ03 = REAL / "closest-nq03-cp-2025-pl2-nhiem-vu.txt"


# (file, number, issued date, province, plan year, layout) as each text states them.
EXCERPTS = [
    ("excerpt-thanhhoa-281-kh-ubnd-2022-cds-2023.txt", "281/KH-UBND", "2022-12-10", "Thanh Hóa", 2023,
     "plain-lines"),
    ("excerpt-haiduong-1914-kh-ubnd-2023-cds-2023.txt", "1914/KH-UBND", "2023-06-05", "Hải Dương", 2023,
     "cell-blocks+hard-wrapped"),
    ("excerpt-quangngai-121-kh-ubnd-2025-cds-2026.txt", "121/KH-UBND", "2025-12-31", "Quảng Ngãi", 2026,
     "metadata-table+cell-blocks"),
]


@pytest.mark.parametrize(("name", "number", "issued", "province", "year", "layout"), EXCERPTS)
def test_an_excerpt_is_identified_and_reported_incomplete(name, number, issued, province, year, layout):
    report = inspect_file(REAL / name).as_dict()
    assert (report["number"], report["issued_date"], report["province"], report["plan_year"]) == (
        number, issued, province, year)
    assert report["doc_type"] == "Kế hoạch"
    assert report["issuer"] == f"Ủy ban nhân dân tỉnh {province}"
    assert report["layout"] == layout
    assert report["complete"] is False
    assert any("cut off" in p["message"] for p in report["problems"])


@pytest.mark.parametrize("name", [e[0] for e in EXCERPTS])
def test_the_build_refuses_an_excerpt_with_a_located_error(name):
    path = REAL / name
    with pytest.raises(KehoachError) as err:
        parse_source(read_source(path))
    last = len(path.read_text(encoding="utf-8").rstrip("\n").split("\n"))
    assert str(err.value).startswith(f"{path}:{last}: the text ends mid-document")


def test_the_plan_without_a_type_line_takes_it_from_the_metadata_and_says_so():
    report = inspect_file(REAL / "excerpt-quangngai-121-kh-ubnd-2025-cds-2026.txt").as_dict()
    assert report["title"] == "Kế hoạch chuyển đổi số tỉnh Quảng Ngãi năm 2026"
    assert {"line": 16, "message": "no document-type line after the header; 'Kế hoạch' taken from the metadata "
                                   "table"} in report["problems"]


@pytest.mark.parametrize(("name", "number", "issued", "issuer", "province"), [
    ("closest-qd59-btnmt-2024-chuong-trinh-hanh-dong.txt", "59/QĐ-BTNMT", "2024-01-08",
     "Bộ Tài nguyên và Môi trường", None),
    ("closest-qd3745-ubnd-tayninh-2021-ke-hoach-sdd.txt", "3745/QĐ-UBND", "2021-12-30",
     "Ủy ban nhân dân tỉnh Tây Ninh", "Tây Ninh"),
])
def test_the_decisions_are_identified(name, number, issued, issuer, province):
    report = inspect_file(REAL / name).as_dict()
    assert (report["doc_type"], report["number"], report["issued_date"], report["issuer"], report["province"]) == (
        "Quyết định", number, issued, issuer, province)


def test_the_nq03_appendix_has_no_front_matter_but_its_table_is_read():
    report = inspect_file(NQ03).as_dict()
    assert report["number"] is None and report["complete"] is False
    assert report["layout"] == "no-front-matter+markdown-tables"
    assert report["problems"][0]["line"] == 1
    assert report["problems"][0]["message"].startswith("no document header")
    assert report["parts"]["tasks"] == 140


@pytest.fixture(scope="module")
def nq03_tables() -> dict[str, list[dict]]:
    source = read_source(NQ03)
    out = {name: TableBuilder(name) for name in resource_names()}
    pillars = PillarCollector("nq03")
    for appendix, error in appendix_starts_and_blocks(source.lines, 0, source.path):
        assert error is None
        read_appendix(TableContext("nq03", source.path, appendix, appendix.table, registry_for("", ""), pillars, out))
    return {name: b.rows for name, b in out.items()}


def test_the_nq03_task_list_reads_as_140_tasks_in_7_groups(nq03_tables):
    tasks = nq03_tables["tasks"]
    assert [t["task_code"] for t in tasks] == [str(n) for n in range(1, 141)]
    assert Counter(t["group_no"] for t in tasks) == {1: 13, 2: 29, 3: 34, 4: 12, 5: 28, 6: 15, 7: 9}
    first = tasks[0]
    assert first["appendix"] == "II" and first["source_line"] == 10
    assert first["agencies_text"] == "Bộ Khoa học và Công nghệ"
    assert first["partners_text"] == "Ban Tuyên giáo Trung ương; các bộ, ngành, địa phương; VTV, VOV, TTXVN"
    assert first["output_text"] == "Quyết định của Thủ tướng Chính phủ"
    assert (first["deadline_text"], first["deadline_kind"], str(first["deadline_date"])) == (
        "6/2025", "month", "2025-06-30")
    assert tasks[-1]["deadline_kind"] == "ongoing"


def test_ministries_resolve_and_departments_are_kept_verbatim_and_reported(nq03_tables, caplog):
    mentions = nq03_tables["task_agencies"]
    first = [m for m in mentions if m["task_code"] == "1"]
    assert [(m["role"], m["mention"], m["agency_id"]) for m in first] == [
        ("lead", "Bộ Khoa học và Công nghệ", "bo-khcn"),
        ("partner", "Ban Tuyên giáo Trung ương", None),
        ("partner", "các bộ, ngành, địa phương", "bo-nganh-dia-phuong"),
        ("partner", "VTV", "vtv"), ("partner", "VOV", "vov"), ("partner", "TTXVN", "ttxvn"),
    ]
    builder = TableBuilder("task_agencies")
    for m in first:
        builder.add(**m)
    with caplog.at_level(logging.WARNING):
        assert report_unresolved(str(NQ03), {"task_agencies": builder}) == 1
    assert f"{NQ03}:10: agency 'Ban Tuyên giáo Trung ương' (task_agencies) is not in reference/agencies.csv" in (
        caplog.text)


def test_the_province_department_of_science_resolves():
    qn = registry_for("Quảng Ngãi", "tỉnh")
    assert qn.resolve("Sở Khoa học và Công nghệ") == "quang-ngai.so-khcn"
    assert qn.resolve("Bộ Khoa học và Công nghệ") == "bo-khcn"


def test_cli_inspect_json_has_exactly_the_keys_and_exits_0(capsys):
    files = [str(REAL / e[0]) for e in EXCERPTS]
    assert cli.main(["inspect", *files, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [tuple(o) for o in out] == [KEYS] * len(files)
    assert [o["number"] for o in out] == [e[1] for e in EXCERPTS]


def test_cli_inspect_exits_2_with_a_located_line_for_a_text_it_cannot_identify(capsys):
    assert cli.main(["inspect", str(NQ03)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"{NQ03}:1: no document header")
    assert "read: tasks 140" in captured.out


def test_tables_no_part_reads_are_counted_and_located_not_ignored():
    # QĐ 3745's three land-use tables (19 columns of areas per commune) feed no resource of the package.
    report = inspect_file(REAL / "closest-qd3745-ubnd-tayninh-2021-ke-hoach-sdd.txt").as_dict()
    assert report["parts"]["other_tables"] == 3
    assert [p["line"] for p in report["problems"] if "no part of the package reads" in p["message"]] == [20, 93, 119]
    assert report["problems"][0]["message"].startswith(
        "a table that no part of the package reads (STT | Chỉ tiêu sử dụng đất | Mã | Tổng diện tích")
    assert "other_tables" not in inspect_file(NQ03).as_dict()["parts"]  # its one table is read


# The front matter of Nghị quyết 03/NQ-CP as a markdown transcription writes it (headings), its body's
# first lines and an indicators appendix (units beside values by year, no unit answering for them).
NQ03_FRONT = """# CHÍNH PHỦ   CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc

Số: 03/NQ-CP   Hà Nội, ngày 09 tháng 01 năm 2025

# NGHỊ QUYẾT

## BAN HÀNH CHƯƠNG TRÌNH HÀNH ĐỘNG CỦA CHÍNH PHỦ THỰC HIỆN NGHỊ QUYẾT SỐ 57-NQ/TW NGÀY 22 THÁNG 12 NĂM 2024 \
CỦA BỘ CHÍNH TRỊ VỀ ĐỘT PHÁ PHÁT TRIỂN KHOA HỌC, CÔNG NGHỆ, ĐỔI MỚI SÁNG TẠO VÀ CHUYỂN ĐỔI SỐ QUỐC GIA

Căn cứ Luật Tổ chức Chính phủ ngày 18 tháng 02 năm 2025;

**QUYẾT NGHỊ:**

Điều 1. Ban hành kèm theo Nghị quyết này Chương trình hành động của Chính phủ.

**PHỤ LỤC I**

**CÁC CHỈ TIÊU CỤ THỂ ĐẾN NĂM 2030**

| TT | Chỉ tiêu | Đơn vị tính | Năm 2025 | Năm 2030 |
|---|---|---|---|---|
| 1. | Tỷ lệ doanh nghiệp có hoạt động đổi mới sáng tạo | % | 30 | 40 |
| 2. | Chi cho nghiên cứu phát triển so với GDP | % | 1 | 2 |
| 3. | Số lượng đơn đăng ký sáng chế tăng bình quân | %/năm | 12 | 16 |

"""


def nq03_plan(tmp_path: Path, title_prefix: str = "") -> Path:
    """The whole plan transcribed as markdown: the task appendix follows the indicators under its own
    title ('DANH MỤC CÁC NHIỆM VỤ …') with no 'PHỤ LỤC' line of its own."""
    appendix = NQ03.read_text(encoding="utf-8").split("\n")
    title = next(i for i, line in enumerate(appendix) if line.startswith("**DANH MỤC CÁC NHIỆM VỤ"))
    path = tmp_path / "nq03.md"
    path.write_text(NQ03_FRONT + title_prefix + "\n".join(appendix[title:]), encoding="utf-8")
    return path


def test_a_markdown_plan_reads_its_heading_front_matter_and_its_task_appendix_after_the_indicators(
        tmp_path, caplog):
    path = nq03_plan(tmp_path)
    report = inspect_file(path).as_dict()
    assert (report["doc_type"], report["number"], report["issued_date"], report["issuer"]) == (
        "Nghị quyết", "03/NQ-CP", "2025-01-09", "Chính phủ")
    assert report["title"] == (
        "Nghị quyết ban hành chương trình hành động của chính phủ thực hiện nghị quyết số 57-NQ/TW ngày 22 "
        "tháng 12 năm 2024 của bộ chính trị về đột phá phát triển khoa học, công nghệ, đổi mới sáng tạo và "
        "chuyển đổi số quốc gia")
    appendices = parse_document(read_source(path)).appendices
    assert [(a.label, a.title[:30], [(table_kinds(t), len(t.rows)) for t in a.tables]) for a in appendices] == [
        ("I", "CÁC CHỈ TIÊU CỤ THỂ ĐẾN NĂM 20", [(("indicators",), 3)]),
        ("II", "DANH MỤC CÁC NHIỆM VỤ TRIỂN KH", [(("tasks",), 147)]),  # 140 tasks and their 7 groups
    ]
    assert appendices[1].note.startswith("Kèm theo Chương trình hành động tại Nghị quyết số")
    with caplog.at_level(logging.WARNING, logger="kehoach"):
        tables = parse_source(read_source(path))
    indicators_at = appendices[0].tables[0].header_line
    assert f"{path}:{indicators_at}: an indicators table (a target and its unit, no deadline): its 3 rows are " \
           "not read as tasks" in caplog.text
    tasks = tables["tasks"].to_pylist()
    assert len(tasks) == 140 and {t["appendix"] for t in tasks} == {"II"} and tables["investments"].num_rows == 0
    assert tasks[0]["source_line"] == appendices[1].tables[0].header_line + 3  # the header, its rule, group I
    names = [t["name"] for t in tasks]
    assert not any(n.startswith(("Tỷ lệ doanh nghiệp", "Chi cho nghiên cứu", "Số lượng đơn")) for n in names)
    assert names[-1].startswith("Tích cực, chủ động tham gia định hình các khuôn khổ")


def test_a_numbered_sub_heading_introduces_a_table_of_the_same_appendix(tmp_path):
    """'II. DANH MỤC …' is a sub-heading of appendix I (numbered), not a title of its own."""
    appendices = parse_document(read_source(nq03_plan(tmp_path, title_prefix="II. "))).appendices
    assert [(a.label, [table_kinds(t) for t in a.tables]) for a in appendices] == [
        ("I", [("indicators",), ("tasks",)])]


@pytest.mark.parametrize(("label", "after"), [("I", "II"), ("IV", "V"), ("IX", "X"), ("2", "3"), ("09", "10"),
                                              ("A", "B"), ("C", "D"), ("", "")])
def test_an_appendix_without_its_own_heading_is_numbered_after_the_previous_one(label, after):
    assert next_label(label) == after


def test_inspect_reports_the_warnings_the_build_gives(plan_path, caplog, capsys):
    with caplog.at_level(logging.WARNING, logger="kehoach"):
        parse_source(read_source(plan_path))
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"{plan_path}:81: reference 'Đề án 06' names no single known document" in warned
    caplog.clear()
    problems = inspect_file(plan_path).as_dict()["problems"]
    for message in warned:
        line, what = message.removeprefix(f"{plan_path}:").split(": ", 1)
        assert {"line": int(line), "message": f"warning: {what}"} in problems
    assert not caplog.records  # reported, not printed as well
    assert cli.main(["inspect", str(plan_path)]) == 0
    assert f"{plan_path}:81: warning: reference 'Đề án 06' names no single known document" in capsys.readouterr().out
