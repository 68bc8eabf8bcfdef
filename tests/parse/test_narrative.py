"""The narrative of the real 2024 Quảng Ngãi plan (raw/qni-219-KH-UBND-2023.txt): values read from its text."""

from datetime import date
from decimal import Decimal

import pytest
from helpers import one, plan_text, rows, write_plan

from kehoach.parse.plan import parse_source
from kehoach.read.sources import read_source

NARRATIVE = ("sections", "assessment_items", "indicators", "legal_bases", "citations", "budget_summary",
             "objectives", "plan_actions", "solutions", "responsibilities", "footnotes")


# -- the outline -------------------------------------------------------------------------

def test_outline_follows_the_numbering(plan_tables, plan_source):
    part1, part2 = one(plan_tables, "sections", section_id="I"), one(plan_tables, "sections", section_id="II")
    assert (part1["kind"], part1["role"]) == ("part", "assessment")
    assert part1["heading"] == "ĐÁNH GIÁ KẾT QUẢ THỰC HIỆN NĂM 2023"
    assert (part2["role"], part2["heading"]) == ("plan", "NỘI DUNG KẾ HOẠCH NĂM 2024")
    roles = {r["section_id"]: r["role"] for r in rows(plan_tables, "sections", parent_id="II")}
    assert roles == {"II.I": "legal_bases", "II.II": "objectives", "II.III": "actions", "II.IV": "solutions",
                     "II.V": "budget", "II.VI": "implementation"}
    sub = one(plan_tables, "sections", section_id="I.II.1.1")
    assert (sub["kind"], sub["level"], sub["label"], sub["heading"]) == ("subsection", 4, "1.1", "Ngày Chuyển đổi số")
    item = one(plan_tables, "sections", section_id="II.III.3.dd")
    assert item["label"] == "đ" and plan_source.line(item["source_line"]).startswith("đ) Đẩy nhanh tốc độ phủ mạng")
    assert one(plan_tables, "sections", section_id="II.VI.7")["heading"] == "Sở Khoa học và Công nghệ"


def test_the_same_area_in_part_one_and_part_two_is_one_pillar(plan_tables):
    assessed = one(plan_tables, "sections", section_id="I.II.1")
    planned = one(plan_tables, "sections", section_id="II.III.1")
    assert assessed["heading"] == planned["heading"] == "Nhận thức số"
    assert assessed["pillar"] == planned["pillar"] == "awareness"
    assert (assessed["kind"], planned["kind"]) == ("area", "area")
    # Part I numbers 'Kinh phí thực hiện' as area 11; the appendices number the areas differently.
    funding = one(plan_tables, "sections", section_id="I.II.11")
    assert (funding["heading"], funding["pillar"]) == ("Kinh phí thực hiện", "funding")
    # Sub-sections inherit the area; solutions are numbered but are no areas.
    assert one(plan_tables, "sections", section_id="I.II.2.2.b")["pillar"] == "institutions"
    assert {r["pillar"] for r in rows(plan_tables, "sections", parent_id="II.IV")} == {None}


def test_sections_nest_and_span_their_lines(plan_tables, plan_source):
    sections = {r["section_id"]: r for r in plan_tables["sections"].to_pylist()}
    for s in sections.values():
        assert s["source_line"] <= s["line_end"]
        if s["parent_id"]:
            parent = sections[s["parent_id"]]
            assert parent["source_line"] <= s["source_line"] and s["line_end"] <= parent["line_end"]
            assert s["level"] == parent["level"] + 1
        if s["kind"] in ("section", "area", "subsection", "item"):
            assert plan_source.line(s["source_line"]).startswith(s["label"])
    closing = sections["closing"]
    assert plan_source.line(closing["source_line"]).endswith("./.")
    assert sections["II.VI.7"]["line_end"] == closing["source_line"] - 1  # the closing is nobody's duty
    assert [sections[k]["kind"] for k in ("PL1", "PL2", "PL3", "footnotes")] == ["appendix"] * 3 + ["footnotes"]


def test_every_narrative_row_points_at_a_section_containing_its_line(plan_tables):
    sections = {r["section_id"]: r for r in plan_tables["sections"].to_pylist()}
    for name in NARRATIVE[1:]:
        table = plan_tables[name].to_pylist()
        assert table, name
        for r in table:
            s = sections[r["section_id"]]
            line = r.get("marker_line") or r["source_line"]
            assert s["source_line"] <= line <= s["line_end"], (name, r)


# -- Part I ------------------------------------------------------------------------------------

def test_assessment_items_are_classified_by_their_label(plan_tables, plan_source):
    item = one(plan_tables, "assessment_items", source_line=72)
    assert (item["classification"], item["label"], item["pillar"], item["form"]) == (
        "shortcoming", "Tồn tại, hạn chế", "awareness", "paragraph")
    assert item["text"] == plan_source.line(72)
    achieved = one(plan_tables, "assessment_items", source_line=107)
    assert (achieved["classification"], achieved["pillar"]) == ("achievement", "infrastructure")
    assert achieved["text"] == "Các doanh nghiệp viễn thông đã đầu tư phát sóng thử nghiệm 05 trạm BTS công nghệ 5G."
    # Area 4 (Dữ liệu số) has no 'a) Kết quả đạt được' label: the document does not say, so 'other'.
    data = rows(plan_tables, "assessment_items", pillar="data")
    assert [d["classification"] for d in data] == ["other"] * 4 + ["shortcoming"]
    society = [d["classification"] for d in rows(plan_tables, "assessment_items", pillar="society")]
    assert society == ["achievement"] * 4 + ["shortcoming"]
    # Part I, section I has no area at all.
    assert {d["pillar"] for d in rows(plan_tables, "assessment_items", section_id="I.I")} == {None}


def _indicator(tables, line, value_text):
    return one(tables, "indicators", source_line=line, value_text=value_text)


def test_share_of_adults_with_an_electronic_id_account(plan_tables):
    eid = _indicator(plan_tables, 154, "85")
    assert (eid["value"], eid["kind"], eid["unit"], eid["qualifier"]) == (
        Decimal("85"), "percent", "percent", "reached")
    assert eid["subject"] == "Tỷ lệ dân số trưởng thành có tài khoản định danh điện tử"
    assert eid["pillar"] == "society" and eid["section_id"] == "I.II.10.a"
    assert eid["sentence"].startswith("Tỷ lệ dân số trưởng thành có tài khoản định danh điện tử đạt 85%")


def test_recurrent_spending_split_stated_for_2023(plan_tables):
    spend = {i["value_text"]: i for i in rows(plan_tables, "indicators", source_line=161, kind="money")}
    assert {k: (v["unit"], v["amount_million_vnd"], v["subject"]) for k, v in spend.items()} == {
        "148": ("billion VND", Decimal("148000"), "Nguồn chi thường xuyên"),
        "120": ("billion VND", Decimal("120000"), "ngân sách cấp tỉnh"),
        "28": ("billion VND", Decimal("28000"), "ngân sách cấp huyện"),
    }
    assert spend["120"]["value"] + spend["28"]["value"] == spend["148"]["value"]  # the text adds up
    growth = _indicator(plan_tables, 161, "13,21")
    assert (growth["value"], growth["kind"], growth["qualifier"]) == (Decimal("13.21"), "percent", "increase")
    assert {i["pillar"] for i in rows(plan_tables, "indicators", source_line=161)} == {"funding"}


def test_fractions_keep_both_numbers_and_ranks_are_ranks(plan_tables):
    trained = _indicator(plan_tables, 127, "23.086/23.086")
    assert (trained["kind"], trained["value"], trained["denominator"], trained["unit"]) == (
        "fraction", Decimal("23086"), Decimal("23086"), "people")
    assert trained["subject"] == "cán bộ, công chức, viên chức"
    rank = _indicator(plan_tables, 140, "11/63")
    assert (rank["kind"], rank["value"], rank["denominator"], rank["unit"]) == (
        "rank", Decimal("11"), Decimal("63"), None)
    assert rank["subject"] == "chỉ tiêu Hồ sơ TTHC giải quyết đúng hoặc sớm hạn"
    assert _indicator(plan_tables, 140, "15/63")["subject"] == "thanh toán trực tuyến"
    climb = _indicator(plan_tables, 141, "34")
    assert (climb["kind"], climb["unit"], climb["qualifier"]) == ("rank_change", "ranks", "increase")
    assert climb["subject"] == "chỉ số chuyển đổi số tỉnh Quảng Ngãi năm 2022"


@pytest.mark.parametrize(
    ("line", "value_text", "value", "unit", "qualifier", "qualifier_text"),
    [
        (69, "1.000", "1000", "participations", "above", "hơn"),
        (84, "211", "211", "articles", None, None),
        (84, "4", "4", "articles per week", None, None),
        (107, "05", "5", "stations", None, None),
        (126, "700", "700", "participations", "about", "khoảng"),
        (126, "2.000", "2000", "people", "nearly", "gần"),
        (126, "222.000", "222000", "participations", "above", "hơn"),
        (153, "71,54", "71.54", "percent", "above", "đạt trên"),
        (153, "85", "85", "percent", "above", "trên"),
        (156, "13.927", "13927", None, None, None),
    ],
)
def test_indicator_values_units_and_qualifiers(plan_tables, line, value_text, value, unit, qualifier, qualifier_text):
    found = _indicator(plan_tables, line, value_text)
    assert (found["value"], found["unit"], found["qualifier"], found["qualifier_text"]) == (
        Decimal(value), unit, qualifier, qualifier_text)


def test_subjects_are_read_only_where_the_sentence_is_clear(plan_tables):
    assert _indicator(plan_tables, 107, "05")["subject"] == "trạm BTS công nghệ 5G"
    assert _indicator(plan_tables, 156, "13.927")["subject"] == "Số lượng hồ sơ học sinh đăng ký dự thi trực tuyến"
    assert _indicator(plan_tables, 84, "211")["subject"] is None  # '211 tin, bài' says nothing beyond its unit
    assert _indicator(plan_tables, 127, "83")["subject"] is None  # 'đạt tỷ lệ khoảng 83%': of what, it does not say


def test_dates_years_names_and_numbers_glued_to_letters_are_not_indicators(plan_tables):
    values = {(i["source_line"], i["value_text"]) for i in plan_tables["indicators"].to_pylist()}
    assert not [v for v in values if v[1] in ("2022", "2023", "2025")]
    assert not rows(plan_tables, "indicators", source_line=70)  # 'từ tháng 8/2023'
    assert not rows(plan_tables, "indicators", source_line=81)  # 'Đề án 06'
    def on_line(line):
        return [i["value_text"] for i in rows(plan_tables, "indicators", source_line=line)]

    assert on_line(82) == ["01"]  # not 'thứ 5', 'thứ 7'
    assert on_line(134) == ["2"]  # not 'mô hình 4 lớp'
    assert on_line(154) == ["85", "21"]  # not '01 trong 21'
    assert on_line(107) == ["05"]  # not '5G'
    for i in plan_tables["indicators"].to_pylist():
        assert i["value_text"] in i["sentence"]


# -- legal bases and citations ----------------------------------------------------------------

def test_legal_bases(plan_tables, plan_source):
    bases = plan_tables["legal_bases"].to_pylist()
    assert len(bases) == 15
    assert [b["position"] for b in bases] == list(range(1, 16))
    assert bases[0]["doc_id"] == "749-qd-ttg-2020" and bases[7]["doc_id"] == "quang-ngai-13-nq-tu-2023"
    assert all(plan_source.line(b["source_line"]) == f"- {b['text']}" for b in bases)
    doc = one(plan_tables, "documents", doc_id="749-qd-ttg-2020")
    assert (doc["number"], doc["doc_type"], doc["issuer"], doc["issued_date"]) == (
        "749/QĐ-TTg", "Quyết định", "Thủ tướng Chính phủ", date(2020, 6, 3))
    related = one(plan_tables, "plan_documents", doc_id="749-qd-ttg-2020", relation="legal_basis")
    assert (related["position"], related["source_line"]) == (1, bases[0]["source_line"])
    assert len(rows(plan_tables, "plan_documents", relation="legal_basis")) == 15


def test_one_document_however_it_is_cited(plan_tables):
    cited = rows(plan_tables, "citations", doc_id="458-qd-ttg-2020")
    forms = {c["reference_text"] for c in cited}
    assert {"Quyết định số 458/QĐ-TTg", "Quyết định số 458/QĐ-TTg ngày 03/4/2020",
            "Quyết định 458/QĐ-TTg ngày 03/4/2020"} <= forms
    relations = {r["relation"] for r in rows(plan_tables, "plan_documents", doc_id="458-qd-ttg-2020")}
    assert relations == {"related", "cited"}
    spaced = one(plan_tables, "citations", number_text="2294/QĐ- BTTTT")
    assert spaced["doc_id"] == "2294-qd-btttt-2023" and spaced["section_id"] == "PL3"
    cell = one(plan_tables, "citations", source_line=383)  # task 9.2's agency cell
    assert (cell["doc_id"], cell["issued_date"], cell["section_id"]) == (
        "quang-ngai-4824-ubnd-kgvx-2023", date(2023, 9, 29), "PL1")
    assert cell["reference_text"] == "Công văn số 4824/UBND- KGVX ngày 29/9/2023"


def test_year_less_related_entry_merges_with_its_dated_citation(plan_tables):
    assert not rows(plan_tables, "documents", doc_id="01-nq-cp")
    doc = one(plan_tables, "documents", doc_id="01-nq-cp-2023")
    assert doc["issued_date"] == date(2023, 1, 6) and doc["title"].startswith("Nghị quyết 01/NQ-CP về nhiệm vụ")
    assert {r["relation"] for r in rows(plan_tables, "plan_documents", doc_id="01-nq-cp-2023")} == {"related", "cited"}


def test_stated_type_that_contradicts_the_number_is_kept_apart(plan_tables):
    citation = one(plan_tables, "citations", source_line=62, position=1)
    assert (citation["stated_type"], citation["doc_id"]) == ("Quyết định", "quang-ngai-189-kh-ubnd-2022")
    assert one(plan_tables, "documents", doc_id="quang-ngai-189-kh-ubnd-2022")["doc_type"] == "Kế hoạch"


def test_references_without_a_full_number(plan_tables):
    by_form = {c["reference_text"]: c for c in rows(plan_tables, "citations", source_line=98)}
    assert (by_form["Nghị quyết 01/2023/NQ-CP"]["doc_id"], by_form["Nghị quyết 01/2023/NQ-CP"]["match"]) == (
        "01-nq-cp-2023", "number_variant")
    assert (by_form["Chỉ thị 05"]["doc_id"], by_form["Chỉ thị 05"]["match"]) == ("05-ct-ttg-2023", "short")
    assert by_form["Quyết định 17"]["doc_id"] == "17-qd-ubqgcds-2023"
    scheme = rows(plan_tables, "citations", reference_text="Đề án 06")
    assert [(c["doc_id"], c["match"]) for c in scheme] == [(None, "unresolved")] * 2
    law = one(plan_tables, "citations", source_line=282)
    assert (law["reference_text"], law["doc_id"], law["match"]) == (
        "Luật Ngân sách nhà nước", "luat-ngan-sach-nha-nuoc-2015", "name")


def test_the_plan_does_not_cite_itself(plan_tables):
    assert not [d for d in plan_tables["documents"].to_pylist() if d["number"] == "219/KH-UBND"]
    assert not rows(plan_tables, "citations", section_id="PL2")  # its only number is the plan's own


# -- Part II --------------------------------------------------------------------------------------

def test_budget_summary_of_section_five(plan_tables, plan_source):
    summary = {(r["budget_level"], r["expenditure_type"]): r for r in plan_tables["budget_summary"].to_pylist()}
    assert {k: v["amount_million_vnd"] for k, v in summary.items()} == {
        ("district", "recurrent"): Decimal("10135.0"),
        ("province", "recurrent"): Decimal("71955.5"),
        ("province", "investment"): Decimal("174695.2"),
        ("all", "all"): Decimal("256785.7"),
    }
    assert summary[("province", "recurrent")]["amount_text"] == "71.955,5"
    assert {r["section_id"] for r in summary.values()} == {"II.V"}
    for r in summary.values():
        assert r["amount_text"] in plan_source.line(r["source_line"])
    parts = sum(v["amount_million_vnd"] for k, v in summary.items() if k != ("all", "all"))
    assert parts == summary[("all", "all")]["amount_million_vnd"]
    # The appendix's grand total says the same.
    grand = one(plan_tables, "budget_stated_totals", total_id="grand", budget_level="all")
    assert grand["amount_million_vnd"] == summary[("all", "all")]["amount_million_vnd"]


def test_objectives_actions_and_solutions(plan_tables, plan_source):
    objective = one(plan_tables, "objectives")
    assert objective["text"].startswith("Hoàn thành trên phạm vi toàn tỉnh") and objective["section_id"] == "II.II"
    actions = plan_tables["plan_actions"].to_pylist()
    assert len({a["pillar"] for a in actions}) == 10
    shared = rows(plan_tables, "plan_actions", pillar="awareness", item_label="b")
    assert len(shared) == 3
    assert {a["item_heading"] for a in shared} == {"Chia sẻ bài toán, sáng kiến, cách làm về chuyển đổi số"}
    infrastructure = rows(plan_tables, "plan_actions", pillar="infrastructure")
    assert [a["item_label"] for a in infrastructure] == ["a", "b", "c", "d", "đ", "e", "g"]
    assert {a["form"] for a in infrastructure} == {"heading"}  # a lettered line that is the action itself
    assert infrastructure[0]["text"].startswith("Nâng cấp Trung tâm dữ liệu tỉnh")
    institutions = rows(plan_tables, "plan_actions", pillar="institutions")
    assert [(a["area_label"], a["item_label"], a["form"]) for a in institutions] == [("2", None, "bullet")] * 3
    groups = {}
    for s in plan_tables["solutions"].to_pylist():
        groups[s["group_label"]] = groups.get(s["group_label"], 0) + 1
    assert groups == {"1": 3, "2": 2, "3": 3, "4": 2, "5": 1}
    assert one(plan_tables, "solutions", group_label="5")["form"] == "paragraph"
    for name in ("objectives", "plan_actions", "solutions"):
        for r in plan_tables[name].to_pylist():
            assert r["text"] in plan_source.line(r["source_line"])


def test_responsibilities_per_duty_per_agency(plan_tables):
    def duties(agency, role="responsible"):
        return [r["duty_label"] for r in rows(plan_tables, "responsibilities", agency_id=agency, role=role)]

    assert duties("quang-ngai.so-tttt") == ["a", "b", "c", "d", "đ"]
    assert duties("quang-ngai.vp-ubnd") == ["a", "b"]
    assert duties("quang-ngai.so-khdt") == [None]  # one paragraph, no letters
    # 'Các sở, ban, ngành và UBND các huyện, thị xã, thành phố' is two collectives.
    assert duties("quang-ngai.so-ban-nganh") == duties("quang-ngai.ubnd-cap-huyen") == ["a", "b"]
    # 'Chủ trì, phối hợp với Sở Nội vụ, Sở Thông tin và Truyền thông hướng dẫn …'
    vp = rows(plan_tables, "responsibilities", source_line=276)
    assert [(r["role"], r["agency_id"]) for r in vp] == [
        ("responsible", "quang-ngai.vp-ubnd"), ("counterpart", "quang-ngai.so-nv"),
        ("counterpart", "quang-ngai.so-tttt")]
    assert all(r["agency_id"] for r in plan_tables["responsibilities"].to_pylist())


def test_footnotes_and_their_markers(plan_tables, plan_source):
    notes = {n["marker"]: n for n in plan_tables["footnotes"].to_pylist()}
    assert set(notes) == {"1", "2"}
    assert "kế hoạch[1]" in plan_source.line(notes["1"]["marker_line"])
    assert notes["1"]["section_id"] == "I.II.3.a"
    assert notes["2"]["text"].startswith("Đã thực hiện với dữ liệu của 6 huyện")
    assert plan_source.line(notes["2"]["source_line"]).startswith("[2] ")


def test_references_in_capitals_or_with_a_dotless_i_are_still_found(tmp_path):
    """Lines are only tried for short and named references when their ``caseless`` form holds a
    type's or a name's first word: what ``re.IGNORECASE`` finds must pass that test."""
    text = plan_text()
    assert text.count("Chỉ thị 05 và Quyết định 17") == 1 and text.count("quy định của Luật Ngân sách nhà nước") == 1
    text = text.replace("Chỉ thị 05 và Quyết định 17", "CHỈ THỊ 05 và QUYẾT ĐỊNH 17").replace(
        "quy định của Luật Ngân sách nhà nước", "quy định của LUẬT NGÂN SÁCH NHÀ NƯỚC")
    tables = parse_source(read_source(write_plan(tmp_path, text)))
    by_form = {c["reference_text"]: c for c in rows(tables, "citations", source_line=98)}
    assert (by_form["CHỈ THỊ 05"]["doc_id"], by_form["CHỈ THỊ 05"]["match"]) == ("05-ct-ttg-2023", "short")
    assert by_form["QUYẾT ĐỊNH 17"]["doc_id"] == "17-qd-ubqgcds-2023"
    law = one(tables, "citations", source_line=282)
    assert (law["reference_text"], law["doc_id"]) == ("LUẬT NGÂN SÁCH NHÀ NƯỚC", "luat-ngan-sach-nha-nuoc-2015")
