"""Golden values read from the real 2024 Quảng Ngãi plan (raw/qni-219-KH-UBND-2023.txt)."""

import unicodedata
from datetime import date
from decimal import Decimal

from helpers import one, rows


def test_plan_header(plan_tables, plan_source):
    plan = one(plan_tables, "plans")
    assert plan["plan_id"] == "quang-ngai-219-kh-ubnd-2023"
    assert plan["number"] == "219/KH-UBND"
    assert plan["doc_type"] == "Kế hoạch" and plan["doc_type_en"] == "Plan"
    assert plan["issuer"] == "Ủy ban nhân dân tỉnh Quảng Ngãi"
    assert plan["province"] == "Quảng Ngãi" and plan["province_code"] == "51"
    assert plan["issued_date"] == date(2023, 12, 20)
    assert plan["title"] == "Kế hoạch chuyển đổi số tỉnh Quảng Ngãi năm 2024"
    assert plan["title_printed"] == "CHUYỂN ĐỔI SỐ TỈNH QUẢNG NGÃI NĂM 2024"
    assert plan["plan_year"] == 2024
    assert (plan["period_start"], plan["period_end"]) == (2024, 2024)  # a one-year plan covers its year
    # the plan it follows, as it cites it in its list of related documents; not in the package alone
    assert (plan["previous_plan_number"], plan["previous_plan_id"]) == ("189/KH-UBND", None)
    assert plan_source.line(plan["previous_plan_line"]) == (
        "- 15 Kế hoạch 189/KH-UBND năm 2022 về Chuyển đổi số tỉnh Quảng Ngãi năm 2023")
    assert plan["signer_title"] == "CHỦ TỊCH"
    assert plan["source_sha256"] == plan_source.sha256
    assert plan_source.line(plan["source_line"]).startswith("Số: 219/KH-UBND")


def test_tasks_appendix(plan_tables):
    tasks = plan_tables["tasks"].to_pylist()
    assert len(tasks) == 74
    per_group = {}
    for t in tasks:
        per_group[t["group_no"]] = per_group.get(t["group_no"], 0) + 1
    assert per_group == {1: 8, 2: 3, 3: 8, 4: 7, 5: 5, 6: 9, 7: 10, 8: 9, 9: 7, 10: 6, 11: 2}
    first = one(plan_tables, "tasks", task_code="1.1")
    assert first["pillar"] == "institutions"
    assert first["agencies_text"] == "Các Sở, ban, ngành tỉnh; UBND cấp huyện"
    assert (first["deadline_kind"], first["deadline_date"]) == ("date", date(2024, 3, 30))
    assert first["name"].startswith("Xây dựng và thực hiện Kế hoạch tuyên truyền")


def test_task_code_with_a_space_is_read_as_a_dot(plan_tables):
    task = one(plan_tables, "tasks", task_code="9.2")
    assert task["task_code_text"] == "9 2"
    assert task["name"] == "Phát triển kinh tế số ngành, lĩnh vực"
    assert (task["deadline_kind"], task["deadline_date"]) == ("year_range", date(2025, 12, 31))


def test_deadline_kinds_in_the_plan(plan_tables):
    def deadline(code):
        t = one(plan_tables, "tasks", task_code=code)
        return t["deadline_text"], t["deadline_kind"], t["deadline_date"]

    assert deadline("4.4") == (None, "none", None)
    assert deadline("2.2") == ("Thường xuyên", "ongoing", None)
    assert deadline("6.5") == ("Hằng năm", "annual", None)
    assert deadline("9.6") == ("Quý trong năm", "quarterly", None)
    assert deadline("9.7") == ("15/5/2024 30/11/2024", "dates", date(2024, 11, 30))
    assert deadline("8.4") == ("30/12/2024 và thường xuyên", "mixed", date(2024, 12, 30))
    assert deadline("8.6") == ("Thường xuyên và 30/12/2024", "mixed", date(2024, 12, 30))
    kinds = {t["deadline_kind"] for t in plan_tables["tasks"].to_pylist()}
    assert "other" not in kinds


def test_agency_mentions_including_run_ons(plan_tables):
    mentions = rows(plan_tables, "task_agencies", task_code="10.3")
    assert [(m["mention"], m["agency_id"]) for m in mentions] == [
        ("Sở TT&TT", "quang-ngai.so-tttt"),
        ("UBND cấp huyện", "quang-ngai.ubnd-cap-huyen"),
    ]
    mentions = rows(plan_tables, "task_agencies", task_code="10.4")
    assert [m["agency_id"] for m in mentions] == [
        "quang-ngai.nhnn", "quang-ngai.so-gddt", "quang-ngai.so-yt", "quang-ngai.so-ldtbxh",
    ]
    assert [m["mention"] for m in mentions][-1] == "Sở LĐTBXH"
    # Abbreviation variants resolve to one agency.
    variants = {m["mention"] for m in plan_tables["budget_item_agencies"].to_pylist()
                if m["agency_id"] == "quang-ngai.so-ldtbxh"}
    assert {"LĐ-TB&XH", "LĐ- TB&XH", "Sở Lao động-TB&XH"} <= variants
    assert all(m["role"] == "lead" for m in plan_tables["task_agencies"].to_pylist())


def test_every_mention_in_the_plan_resolves(plan_tables):
    for name in ("task_agencies", "budget_item_agencies"):
        unresolved = [m["mention"] for m in plan_tables[name].to_pylist() if m["agency_id"] is None]
        assert unresolved == []


def test_areas_join_appendices_that_number_them_differently(plan_tables):
    assert one(plan_tables, "pillars", pillar_id="awareness")["name_en"] == "Digital awareness"
    assert {t["group_no"] for t in rows(plan_tables, "tasks", pillar="awareness")} == {2}
    assert {b["group_no"] for b in rows(plan_tables, "budget_items", pillar="awareness")} == {1}
    # 11 areas and the appendix's overhead group, plus Part I's area 11 'Kinh phí thực hiện' (funding).
    assert len(plan_tables["pillars"]) == 13
    assert one(plan_tables, "pillars", pillar_id="funding")["kind"] == "other"


def test_budget_lines_distinguish_dash_from_blank(plan_tables):
    lines = {(r["budget_level"], r["expenditure_type"]): r for r in rows(plan_tables, "budget_lines", item_code="1.1")}
    assert set(lines) == {("province", "recurrent"), ("district", "recurrent")}  # the other two cells are blank
    assert lines[("province", "recurrent")]["amount_million_vnd"] == Decimal("800")
    assert lines[("district", "recurrent")]["amount_million_vnd"] == Decimal("624")
    dashes = {(r["budget_level"], r["expenditure_type"]): r["stated_as"]
              for r in rows(plan_tables, "budget_lines", item_code="1.2")}
    assert dashes == {("province", "recurrent"): "dash", ("province", "investment"): "dash",
                      ("district", "recurrent"): "number", ("district", "investment"): "dash"}


def test_budget_items(plan_tables):
    assert len(plan_tables["budget_items"]) == 70
    assert not rows(plan_tables, "budget_items", item_code="4.6")  # the document skips 4.6
    item = one(plan_tables, "budget_items", item_code="1.2")
    assert item["units_text"] == "Đức Phổ, Lý Sơn, Mộ Đức"
    assert [m["agency_id"] for m in rows(plan_tables, "budget_item_agencies", item_code="1.2")] == [
        "quang-ngai.thi-xa-duc-pho-534", "quang-ngai.huyen-ly-son-536", "quang-ngai.huyen-mo-duc-533"]
    amount = one(plan_tables, "budget_lines", item_code="2.3", budget_level="province", expenditure_type="recurrent")
    assert amount["amount_million_vnd"] == Decimal("11997") and amount["amount_text"] == "11.997"


def test_a_group_with_figures_but_no_items_is_an_item(plan_tables):
    item = one(plan_tables, "budget_items", item_code="10")
    assert item["name"] == "Chi phí quản lý, Tư vấn, Chi khác (dự án ĐTPT)"
    assert item["pillar"] == "overhead" and item["group_no"] == 10
    line = one(plan_tables, "budget_lines", item_code="10")
    assert (line["budget_level"], line["expenditure_type"], line["amount_million_vnd"]) == (
        "province", "investment", Decimal("8500"))


def test_stated_totals_are_kept_as_written(plan_tables):
    def total(total_id, level, kind):
        return one(plan_tables, "budget_stated_totals", total_id=total_id, budget_level=level,
                   expenditure_type=kind)["amount_million_vnd"]

    assert total("group-2", "province", "recurrent") == Decimal("17017")
    assert total("group-2", "province", "investment") == Decimal("34292")
    assert total("grand", "province", "investment") == Decimal("144415")
    assert total("grand", "all", "all") == Decimal("256785.7")  # the number in 'Tổng: 256.785,7'
    assert one(plan_tables, "budget_stated_totals", total_id="grand", budget_level="all")["label"] == "Tổng: 256.785,7"
    # Group 3 leaves its district recurrent cell blank but writes '-' for district investment.
    group3 = {(r["budget_level"], r["expenditure_type"]): r["stated_as"]
              for r in rows(plan_tables, "budget_stated_totals", total_id="group-3")}
    assert ("district", "recurrent") not in group3
    assert group3[("district", "investment")] == "dash"
    # Totals never leak into budget_lines.
    codes = {r["item_code"] for r in plan_tables["budget_lines"].to_pylist()}
    assert not {"1", "2", "grand"} & codes


def test_investment_appendix(plan_tables):
    assert len(plan_tables["investments"]) == 8
    item = one(plan_tables, "investments", item_no="2")
    assert item["name"] == "Nâng cấp Trung tâm dữ liệu giai đoạn 2024 - 2025"
    assert item["stated_total_million_vnd"] == Decimal("13274")
    years = {r["year"]: r["amount_million_vnd"] for r in rows(plan_tables, "investment_lines", item_no="2")}
    assert years == {2024: Decimal("8272.20"), 2025: Decimal("5002")}
    totals = {r["column_key"]: r["amount_million_vnd"] for r in plan_tables["investment_stated_totals"].to_pylist()}
    assert totals == {"total": Decimal("237422.00"), "2024": Decimal("144420.00"), "2025": Decimal("93002.00")}


def test_related_documents_list_repeats_itself_but_documents_are_unique(plan_tables, plan_source):
    related = rows(plan_tables, "plan_documents", relation="related")
    assert len(related) == 32
    assert plan_source.line(related[0]["source_line"]).startswith("- 1 Luật ngân sách nhà nước 2015")
    doc = one(plan_tables, "documents", doc_id="458-qd-ttg-2020")
    assert (doc["doc_type"], doc["number"], doc["year"], doc["issuer"]) == (
        "Quyết định", "458/QĐ-TTg", 2020, "Thủ tướng Chính phủ")
    local = one(plan_tables, "documents", doc_id="quang-ngai-74-kh-ubnd-2020")
    assert local["issuer"] == "Ủy ban nhân dân tỉnh Quảng Ngãi"
    law = one(plan_tables, "documents", doc_id="luat-giao-dich-dien-tu-2023")
    assert (law["doc_type"], law["number"], law["issuer"], law["year"]) == ("Luật", None, "Quốc hội", 2023)


def test_district_agencies_carry_official_codes(plan_tables):
    assert one(plan_tables, "agencies", agency_id="quang-ngai.thi-xa-duc-pho-534")["admin_code"] == "534"
    assert one(plan_tables, "agencies", agency_id="quang-ngai.huyen-tu-nghia-528")["admin_code"] == "528"


def test_agencies_carry_their_dates_and_successions(plan_tables):
    """The 2024 plan names Sở TT&TT, which existed then; the code list says until when, and who took over."""
    tttt = one(plan_tables, "agencies", agency_id="quang-ngai.so-tttt")
    assert (tttt["valid_from"], tttt["valid_to"]) == (None, date(2025, 2, 28))
    assert one(plan_tables, "agencies", agency_id="quang-ngai.thi-xa-duc-pho-534")["valid_to"] == date(2025, 6, 30)
    assert one(plan_tables, "agencies", agency_id="quang-ngai.so-khcn")["valid_to"] is None
    succession = one(plan_tables, "agency_successions", agency_id="quang-ngai.so-tttt")
    assert succession["successor_agency_id"] == "quang-ngai.so-khcn"
    assert succession["valid_from"] == date(2025, 3, 1) and succession["basis"].startswith("Nghị định 45/2025/NĐ-CP")
    assert one(plan_tables, "agency_successions", agency_id="bo-tttt")["successor_agency_id"] == "bo-khcn"
    assert plan_tables["task_lineage"].num_rows == 0  # a plan alone follows no plan of its package


def test_every_row_points_at_its_source_line(plan_tables, plan_source):
    for t in plan_tables["tasks"].to_pylist():
        assert plan_source.line(t["source_line"]).startswith(t["task_code_text"] + " |")
    for b in plan_tables["budget_lines"].to_pylist():
        assert b["amount_text"] in plan_source.line(b["source_line"])
    for name, table in plan_tables.items():
        if "source_line" in table.column_names:
            assert None not in table.column("source_line").to_pylist(), name


def test_text_is_nfc_everywhere(plan_tables):
    for table in plan_tables.values():
        for column in table.columns:
            for value in column.to_pylist():
                if isinstance(value, str):
                    assert unicodedata.is_normalized("NFC", value)
