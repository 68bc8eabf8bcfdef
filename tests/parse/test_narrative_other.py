"""The narrative of a plan of the same family written in the test: another province, no 'Phần'
division, other areas, other numbers, other agencies. It must parse without code changes."""

import logging
from datetime import date
from decimal import Decimal

import pytest
from helpers import one, rows, write_plan
from sample_plans import OTHER_PLAN as APPENDIX_PLAN

from kehoach.parse.agencies import AgencyRegistry
from kehoach.parse.narrative.indicators import figures
from kehoach.parse.plan import parse_source
from kehoach.read.sources import read_source

OTHER_PLAN = """\
- 1 Luật Giao dịch điện tử 2023
ỦY BAN NHÂN DÂN | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM |
TỈNH BÌNH ĐỊNH | Độc lập - Tự do - Hạnh phúc |
Số: 45/KH-UBND | Bình Định, ngày 5 tháng 1 năm 2025 |
KẾ HOẠCH
CHUYỂN ĐỔI SỐ TỈNH BÌNH ĐỊNH NĂM 2025
I. KẾT QUẢ THỰC HIỆN NĂM 2024
1. Kinh tế số
a) Kết quả đạt được:
- Tỷ lệ doanh nghiệp nhỏ và vừa sử dụng nền tảng số đạt khoảng 42,5%; hơn 3.200 doanh nghiệp tham gia sàn TMĐT.
b) Khó khăn, vướng mắc:
- Còn 12/20 xã chưa có hạ tầng cáp quang[1].
2. Chính quyền số
- Chỉ số chuyển đổi số năm 2024 xếp hạng 7/63, tăng 5 bậc; triển khai Đề án 06 tại 159 xã.
II. CĂN CỨ XÂY DỰNG KẾ HOẠCH
- Luật Giao dịch điện tử ngày 22 tháng 6 năm 2023;
- Luật An toàn thông tin mạng số 86/2015/QH13 ngày 19/11/2015;
- Quyết định số 749/QĐ-TTg ngày 03/6/2020 của Thủ tướng Chính phủ;
- Nghị quyết số 01/NQ-CP ngày 06/01/2025 của Chính phủ.
III. MỤC TIÊU
1. Mục tiêu chung
Đưa Bình Định vào nhóm 20 tỉnh dẫn đầu về chuyển đổi số.
2. Mục tiêu cụ thể
- 100% hồ sơ công việc cấp tỉnh được xử lý trên môi trường mạng.
IV. NHIỆM VỤ, GIẢI PHÁP
1. Kinh tế số
a) Phát triển sàn thương mại điện tử tỉnh.
2. Chính quyền số
- Triển khai Nghị quyết 01/NQ-CP và Chỉ thị 05 trên địa bàn tỉnh; bảo đảm an toàn theo Luật An toàn thông tin mạng.
V. KINH PHÍ
Tổng kinh phí thực hiện là 12,5 tỷ đồng, trong đó: ngân sách tỉnh 10 tỷ đồng; ngân sách huyện 2,5 tỷ đồng.
VI. TỔ CHỨC THỰC HIỆN
1. Sở Thông tin và Truyền thông: Chủ trì, phối hợp với Sở Tài chính tham mưu bố trí kinh phí.
2. Sở Du lịch
- Phối hợp với Sở Công Thương và Sở Nội vụ xây dựng sản phẩm du lịch số.
3. Sở Y tế và UBND các huyện, thị xã, thành phố
Triển khai hồ sơ sức khỏe điện tử.
Các cơ quan báo cáo kết quả thực hiện Kế hoạch số 45/KH-UBND về Sở Thông tin và Truyền thông./.
| KT. CHỦ TỊCH | PHÓ CHỦ TỊCH |
[1] Chủ yếu là các xã miền núi.
"""


@pytest.fixture(scope="module")
def other(tmp_path_factory):
    path = write_plan(tmp_path_factory.mktemp("narrative"), OTHER_PLAN, "bdi-45-KH-UBND-2025.txt")
    return parse_source(read_source(path))


def test_outline_without_parts(other):
    top = [(r["section_id"], r["role"]) for r in other["sections"].to_pylist() if r["parent_id"] is None]
    assert top == [("I", "assessment"), ("II", "legal_bases"), ("III", "objectives"), ("IV", "actions"),
                   ("V", "budget"), ("VI", "implementation"), ("closing", None), ("signature", None),
                   ("footnotes", None)]
    assert one(other, "sections", section_id="I.1.b")["role"] == "shortcoming"
    assert one(other, "sections", section_id="IV.2")["pillar"] == "government"
    assert one(other, "sections", section_id="III.1")["kind"] == "subsection"


def test_assessment_and_its_figures(other):
    labels = [(r["pillar"], r["classification"]) for r in other["assessment_items"].to_pylist()]
    assert labels == [("economy", "achievement"), ("economy", "shortcoming"), ("government", "other")]
    share = one(other, "indicators", value_text="42,5")
    assert (share["value"], share["qualifier"], share["qualifier_text"]) == (Decimal("42.5"), "about", "đạt khoảng")
    assert share["subject"] == "Tỷ lệ doanh nghiệp nhỏ và vừa sử dụng nền tảng số"
    firms = one(other, "indicators", value_text="3.200")
    assert (firms["value"], firms["unit"], firms["qualifier"]) == (Decimal("3200"), "enterprises", "above")
    communes = one(other, "indicators", value_text="12/20")
    assert (communes["kind"], communes["denominator"], communes["unit"]) == ("fraction", Decimal("20"), "communes")
    rank = one(other, "indicators", value_text="7/63")
    assert (rank["kind"], rank["subject"]) == ("rank", "Chỉ số chuyển đổi số năm 2024")
    assert one(other, "indicators", value_text="5")["kind"] == "rank_change"
    assert one(other, "indicators", value_text="159")["unit"] == "communes"
    assert len(other["indicators"]) == 6  # not '2024', not 'Đề án 06', not the footnote marker


def test_legal_bases_by_name_and_number(other):
    bases = [b["doc_id"] for b in other["legal_bases"].to_pylist()]
    assert bases == ["luat-giao-dich-dien-tu-2023", "86-2015-qh13", "749-qd-ttg-2020", "01-nq-cp-2025"]
    law = one(other, "documents", doc_id="luat-giao-dich-dien-tu-2023")  # the related list's entry, now dated
    assert (law["doc_type"], law["issued_date"], law["issuer"]) == ("Luật", date(2023, 6, 22), "Quốc hội")
    assert {r["relation"] for r in rows(other, "plan_documents", doc_id="luat-giao-dich-dien-tu-2023")} == {
        "related", "legal_basis", "cited"}
    numbered = one(other, "documents", doc_id="86-2015-qh13")  # 'QH13': the National Assembly's 13th term
    assert (numbered["doc_type"], numbered["issuer"], numbered["issued_date"], numbered["title"]) == (
        "Luật", "Quốc hội", date(2015, 11, 19), "Luật An toàn thông tin mạng 2015")
    later = one(other, "citations", reference_text="Luật An toàn thông tin mạng")  # by name only, further on
    assert (later["doc_id"], later["match"], later["section_id"]) == ("86-2015-qh13", "name", "IV.2")


def test_citations_of_another_plan(other):
    later = {c["reference_text"]: c for c in rows(other, "citations", section_id="IV.2")}
    assert later["Nghị quyết 01/NQ-CP"]["doc_id"] == "01-nq-cp-2025"  # the year-less form joins its dated twin
    assert (later["Chỉ thị 05"]["doc_id"], later["Chỉ thị 05"]["match"]) == (None, "unresolved")  # never cited in full
    assert not [c for c in other["citations"].to_pylist() if "45/KH-UBND" in c["reference_text"]]  # itself


def test_budget_summary_in_billion_vnd_in_one_sentence(other):
    summary = {(r["budget_level"], r["expenditure_type"]): r["amount_million_vnd"]
               for r in other["budget_summary"].to_pylist()}
    assert summary == {("all", "all"): Decimal("12500"), ("province", "unspecified"): Decimal("10000"),
                       ("district", "unspecified"): Decimal("2500")}


def test_objectives_and_actions(other):
    assert [o["section_id"] for o in other["objectives"].to_pylist()] == ["III.1", "III.2"]
    actions = [(a["pillar"], a["item_label"], a["form"]) for a in other["plan_actions"].to_pylist()]
    assert actions == [("economy", "a", "heading"), ("government", None, "bullet")]


def test_responsibilities_with_unknown_agencies_reported(other):
    inline = rows(other, "responsibilities", group_section_id="VI.1")
    assert [(r["role"], r["agency_id"]) for r in inline] == [
        ("responsible", "binh-dinh.so-tttt"), ("counterpart", "binh-dinh.so-tc")]
    assert inline[0]["text"] == "Chủ trì, phối hợp với Sở Tài chính tham mưu bố trí kinh phí."
    tourism = rows(other, "responsibilities", group_section_id="VI.2")
    assert [(r["role"], r["mention"], r["agency_id"]) for r in tourism] == [
        ("responsible", "Sở Du lịch", None),  # not in reference/agencies.csv: kept, findable, reported
        ("counterpart", "Sở Công Thương", "binh-dinh.so-ct"), ("counterpart", "Sở Nội vụ", "binh-dinh.so-nv")]
    health = rows(other, "responsibilities", group_section_id="VI.3")
    assert [r["agency_id"] for r in health] == ["binh-dinh.so-yt", "binh-dinh.ubnd-cap-huyen"]
    assert not rows(other, "responsibilities", section_id="closing")


@pytest.mark.parametrize(
    ("text", "line_start", "mention", "table"),
    [
        (OTHER_PLAN, "- Phối hợp với Sở Công Thương", "Sở Du lịch", "responsibilities"),
        # a district Bình Định never had (its Hoài Ân is in the code list, and resolves)
        (APPENDIX_PLAN.replace("Hoài Ân", "Hoài Sơn"), "1.1 | Triển khai nền tảng A", "UBND huyện Hoài Sơn",
         "task_agencies"),
    ],
)
def test_unresolved_agencies_are_reported_in_every_table(tmp_path, caplog, text, line_start, mention, table):
    path = write_plan(tmp_path, text)
    line = next(n for n, t in enumerate(text.split("\n"), start=1) if t.startswith(line_start))
    with caplog.at_level(logging.WARNING, logger="kehoach.parse.agencies"):
        parse_source(read_source(path))
    messages = [r.getMessage() for r in caplog.records if r.name == "kehoach.parse.agencies"]
    assert messages == [f"{path}:{line}: agency {mention!r} ({table}) is not in reference/agencies.csv"]


def test_footnote_of_a_plan_without_appendices(other):
    note = one(other, "footnotes", marker="1")
    assert (note["text"], note["section_id"]) == ("Chủ yếu là các xã miền núi.", "I.1.b")


# -- the readers on their own ----------------------------------------------------------------

def test_figures_in_a_sentence():
    found = figures("Năm 2024 có hơn 1.200 lượt người dân tham gia, khoảng 30% ở 4 huyện (thứ 7 hàng tuần).")
    assert [(f.value, f.unit, f.qualifier) for f in found] == [
        (Decimal("1200"), "participations", "above"), (Decimal("30"), "percent", "about"),
        (Decimal("4"), "districts", None)]
    assert figures("Ban hành ngày 12/3/2024, từ tháng 8/2023, theo Quyết định số 12/QĐ-UBND, mô hình 4 lớp.") == []
    assert figures("Tổng đài hỗ trợ 24/7; triển khai IPv6, 5G, bản đồ 3D; đạt chuẩn năm 2025.") == []


def test_agencies_joined_by_and_and_named_in_running_text():
    qn = AgencyRegistry("Quảng Ngãi")
    joined = [(m.text, m.agency_id) for m in qn.mentions("Sở Y tế và Sở Giáo dục và Đào tạo")]
    assert joined == [("Sở Y tế", "quang-ngai.so-yt"), ("Sở Giáo dục và Đào tạo", "quang-ngai.so-gddt")]
    assert [m.agency_id for m in qn.mentions("Sở Thông tin và Truyền thông")] == ["quang-ngai.so-tttt"]
    leading = qn.leading_mentions("Văn phòng UBND tỉnh, Sở Thông tin và Truyền thông trong việc tham mưu")
    assert [m.agency_id for m in leading] == ["quang-ngai.vp-ubnd", "quang-ngai.so-tttt"]
    assert qn.leading_mentions("cơ quan có liên quan trong việc") == []


PREAMBLE_PLAN = """\
ỦY BAN NHÂN DÂN | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM |
TỈNH BÌNH ĐỊNH | Độc lập - Tự do - Hạnh phúc |
Số: 12/KH-UBND | Bình Định, ngày 3 tháng 2 năm 2024 |
KẾ HOẠCH
CHUYỂN ĐỔI SỐ TỈNH BÌNH ĐỊNH NĂM 2024
Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;
Căn cứ Quyết định số 749/QĐ-TTg ngày 03/6/2020 của Thủ tướng Chính phủ;
Ủy ban nhân dân tỉnh ban hành Kế hoạch như sau:
PHẦN I
NỘI DUNG KẾ HOẠCH
NĂM 2024
I. MỤC TIÊU
- Hoàn thành các chỉ tiêu của Quyết định số 749/QĐ-TTg.
| CHỦ TỊCH |
"""


def test_legal_bases_in_the_preamble(tmp_path):
    tables = parse_source(read_source(write_plan(tmp_path, PREAMBLE_PLAN)))
    bases = [(b["doc_id"], b["section_id"]) for b in tables["legal_bases"].to_pylist()]
    assert bases == [("luat-to-chuc-chinh-quyen-dia-phuong-2015", "preamble"), ("749-qd-ttg-2020", "preamble")]
    law = one(tables, "documents", doc_id="luat-to-chuc-chinh-quyen-dia-phuong-2015")
    assert (law["doc_type"], law["issuer"], law["issued_date"]) == ("Luật", "Quốc hội", date(2015, 6, 19))
    part = one(tables, "sections", section_id="I")
    assert (part["heading"], part["role"]) == ("NỘI DUNG KẾ HOẠCH NĂM 2024", "plan")  # a title on two lines
    assert one(tables, "sections", section_id="I.I")["role"] == "objectives"
    assert one(tables, "objectives")["section_id"] == "I.I"
