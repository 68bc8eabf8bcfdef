"""Each audit rule on a small plan of the family with one known defect.

BASE is consistent in every figure, number, agency and deadline, so it gives
no finding at all; each test changes one thing and asserts the finding,
with its exact expected and actual figures where the rule compares amounts.
The rules are the SQL files in kehoach/audit/rules/: no code knows this plan.
"""

from decimal import Decimal

import pyarrow as pa
from helpers import write_plan
from sample_plans import OTHER_PLAN

from kehoach.audit.runner import run_audit
from kehoach.parse.plan import parse_source
from kehoach.read.sources import read_source

BASE = """\
ỦY BAN NHÂN DÂN | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM |
TỈNH BÌNH ĐỊNH | Độc lập - Tự do - Hạnh phúc |
Số: 45/KH-UBND | Bình Định, ngày 5 tháng 1 năm 2025 |
KẾ HOẠCH
CHUYỂN ĐỔI SỐ TỈNH BÌNH ĐỊNH NĂM 2025
Thực hiện Nghị quyết số 01/NQ-CP ngày 06/01/2025 của Chính phủ, UBND tỉnh ban hành Kế hoạch.
| KT. CHỦ TỊCH | PHÓ CHỦ TỊCH |
PHỤ LỤC I
DANH MỤC NHIỆM VỤ
(Kèm theo Kế hoạch số 45/KH-UBND)
STT | Nhiệm vụ | Cơ quan chủ trì | Thời gian thực hiện |
1 | Chính quyền số |
|
|
1.1 | Triển khai nền tảng A | Sở Thông tin và Truyền thông | Quý IV/2025 |
1.2 | Triển khai nền tảng B | Sở Y tế | Thường xuyên |
2 | Kinh tế số |
|
|
2.1 | Thương mại điện tử | Sở Công Thương | 2025 - 2026 |
PHỤ LỤC II
DANH MỤC NHIỆM VỤ VÀ KHAI TOÁN KINH PHÍ
ĐVT: Triệu đồng
TT | Nội dung nhiệm vụ | Kinh phí dự kiến - phân theo nguồn vốn | Cơ quan, đơn vị, địa phương chủ trì | |||
Ngân sách tỉnh, TW | Ngân sách huyện | |||||
CTX | ĐTPT | CTX | ĐTPT | |||
1 | Chính quyền số | 300 | 5.000 | 40 | - |
|
1.1 | Nâng cấp hạ tầng: Năm 2025 |
| 5.000 |
|
| Sở Thông tin và Truyền thông |
1.2 | Tập huấn chuyển đổi số | 300 |
| 40 | - | Sở Nội vụ |
2 | Kinh tế số | 1.200 | - | - | - |
|
2.1 | Sàn thương mại điện tử | 1.200 | - | - | - | Sở Công Thương |
| Tổng: 6.540 | 1.500 | 5.000 | 40 | - |
|
PHỤ LỤC III
KHÁI TOÁN KINH PHÍ ĐẦU TƯ PHÁT TRIỂN
ĐVT: Triệu đồng
TT | Hạng mục đầu tư | Tổng | Phân kỳ đầu tư | |
Năm 2025 | Năm 2026 | |||
1 | Nâng cấp hạ tầng | 8.000 | 5.000 | 3.000 |
| Tổng: | 8.000 | 5.000 | 3.000 |
"""

PLAN_ID = "binh-dinh-45-kh-ubnd-2025"


def audit(tmp_path, text: str, **extra_tables):
    path = write_plan(tmp_path, text, "bdi-45-KH-UBND-2025.txt")
    tables = parse_source(read_source(path))
    tables = {k: v for k, v in tables.items() if k not in extra_tables} | extra_tables
    return run_audit(tables).tables


def changed(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def findings(tables, rule_id: str | None = None) -> list[dict]:
    return [f for f in tables["findings"].to_pylist() if rule_id is None or f["rule_id"] == rule_id]


def only(tables, rule_id: str) -> dict:
    """The one finding of the text, which must come from ``rule_id``."""
    found = findings(tables)
    assert [f["rule_id"] for f in found] == [rule_id], [(f["rule_id"], f["message_en"]) for f in found]
    return found[0]


def one_of(tables, rule_id: str) -> dict:
    """The one finding of ``rule_id`` (other rules may report the same defect too)."""
    found = findings(tables, rule_id)
    assert len(found) == 1, [(f["rule_id"], f["message_en"]) for f in findings(tables)]
    return found[0]


def line_of(text: str, start: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if line.startswith(start))


def test_a_consistent_plan_gives_no_finding(tmp_path):
    tables = audit(tmp_path, BASE)
    assert findings(tables) == []
    rules = tables["audit_rules"].to_pylist()
    assert len(rules) >= 20 and all(r["findings"] == 0 for r in rules)


# --- budget appendix -------------------------------------------------------------

def test_wrong_group_subtotal(tmp_path):
    text = changed("1 | Chính quyền số | 300 | 5.000 | 40 | - |", "1 | Chính quyền số | 350 | 5.000 | 40 | - |")
    tables = audit(tmp_path, text)
    f = one_of(tables, "budget_group_subtotal")
    assert (f["severity"], f["resource"]) == ("error", "budget_stated_totals")
    assert f["row_key"] == '{"total_id":"group-1","budget_level":"province","expenditure_type":"recurrent"}'
    assert (f["expected"], f["actual"], f["difference"]) == (Decimal(300), Decimal(350), Decimal(50))
    assert f["source_line"] == line_of(text, "1 | Chính quyền số | 350")
    assert "350" in f["message_vi"] and "+50" in f["message_en"]
    # The grand total follows the lines, so it now disagrees with the groups, not with the lines.
    assert [g["difference"] for g in findings(tables, "budget_grand_total_vs_groups")] == [Decimal(-50)]
    assert findings(tables, "budget_grand_total_vs_lines") == []


def test_a_dash_subtotal_over_lines_with_amounts_is_an_error(tmp_path):
    text = changed("1 | Chính quyền số | 300 | 5.000 | 40 | - |", "1 | Chính quyền số | 300 | 5.000 | - | - |")
    f = one_of(audit(tmp_path, text), "budget_group_subtotal")
    assert (f["severity"], f["expected"], f["actual"]) == ("error", Decimal(40), Decimal(0))
    assert "“-”" in f["message_vi"]


def test_wrong_grand_total_column(tmp_path):
    text = changed("| Tổng: 6.540 | 1.500 | 5.000 | 40 | - |", "| Tổng: 6.540 | 1.500 | 5.500 | 40 | - |")
    tables = audit(tmp_path, text)
    for rule in ("budget_grand_total_vs_lines", "budget_grand_total_vs_groups"):
        f = one_of(tables, rule)
        assert (f["severity"], f["expected"], f["actual"]) == ("error", Decimal(5000), Decimal(5500))
        assert f["row_key"] == '{"total_id":"grand","budget_level":"province","expenditure_type":"investment"}'
    # The label (6.540) no longer matches the row's own columns (7.040).
    label = one_of(tables, "budget_total_label")
    assert (label["expected"], label["actual"], label["difference"]) == (Decimal(7040), Decimal(6540), Decimal(-500))


def test_the_number_in_a_total_label(tmp_path):
    text = changed("| Tổng: 6.540 |", "| Tổng: 7.540,5 |")
    f = only(audit(tmp_path, text), "budget_total_label")
    assert (f["severity"], f["expected"], f["actual"], f["difference"]) == (
        "error", Decimal(6540), Decimal("7540.5"), Decimal("1000.5"))
    assert f["row_key"] == '{"total_id":"grand","budget_level":"all","expenditure_type":"all"}'
    assert f["tolerance"] == Decimal("0.5")  # the columns are written without decimals


def test_a_difference_within_rounding_is_info(tmp_path):
    # 6.540,4: the label has one decimal, the columns none; 0,4 is within ±0,5.
    f = only(audit(tmp_path, changed("| Tổng: 6.540 |", "| Tổng: 6.540,4 |")), "budget_total_label")
    assert (f["severity"], f["difference"], f["tolerance"]) == ("info", Decimal("0.4"), Decimal("0.5"))
    assert "làm tròn" in f["message_vi"] and "rounding" in f["message_en"]


def test_rounding_tolerance_follows_the_unit_of_the_appendix(tmp_path):
    # In billion VND, '1,5' is written to 0,1 billion: ±50 million is rounding, 200 million is not.
    rounded = OTHER_PLAN.replace("1 | Kinh tế số | 1,5 | 2 |", "1 | Kinh tế số | 1,54 | 2 |")
    f = one_of(audit(tmp_path, rounded), "budget_group_subtotal")
    assert (f["severity"], f["difference"], f["tolerance"]) == ("info", Decimal(40), Decimal(50))


def test_the_same_rules_catch_a_wrong_subtotal_in_another_plan_of_the_family(tmp_path):
    """The Bình Định plan of test_other_plans: billion VND, no budget levels, other areas."""
    # (and a district Bình Định never had: its Hoài Ân is in the code list, and resolves)
    wrong = OTHER_PLAN.replace("1 | Kinh tế số | 1,5 | 2 |", "1 | Kinh tế số | 1,7 | 2 |")
    wrong = wrong.replace("Hoài Ân", "Hoài Sơn")
    tables = audit(tmp_path, wrong)
    f = one_of(tables, "budget_group_subtotal")
    assert (f["severity"], f["expected"], f["actual"], f["difference"]) == (
        "error", Decimal(1500), Decimal(1700), Decimal(200))
    assert f["row_key"] == '{"total_id":"group-1","budget_level":"unspecified","expenditure_type":"recurrent"}'
    assert f["source_line"] == line_of(wrong, "1 | Kinh tế số | 1,7")
    # Its unknown district, kept verbatim, is reported too.
    unresolved = one_of(tables, "agency_unresolved")
    assert "UBND huyện Hoài Sơn" in unresolved["message_vi"] and unresolved["severity"] == "warning"


def test_a_blank_subtotal_cell_its_lines_fill(tmp_path):
    # Group 2 writes '-' for district recurrent; make it blank while item 2.1 writes '-' there.
    text = changed("2 | Kinh tế số | 1.200 | - | - | - |", "2 | Kinh tế số | 1.200 | - |\n| - |")
    f = only(audit(tmp_path, text), "budget_total_blank")
    assert f["severity"] == "warning"
    assert f["row_key"] == '{"total_id":"group-2","budget_level":"district","expenditure_type":"recurrent"}'
    assert (f["expected"], f["actual"], f["difference"]) == (Decimal(0), None, None)


def test_a_budget_item_with_only_blanks(tmp_path):
    text = changed("1.2 | Tập huấn chuyển đổi số | 300 |\n| 40 | - | Sở Nội vụ |",
                   "1.2 | Tập huấn chuyển đổi số |\n|\n|\n|\n| Sở Nội vụ |")
    tables = audit(tmp_path, text)
    f = one_of(tables, "budget_item_no_amount")
    assert (f["severity"], f["row_key"]) == ("warning", '{"item_code":"1.2"}')
    assert "blank" in f["message_en"]


# --- investment appendix ------------------------------------------------------------

def test_an_investment_row_total_that_is_not_the_sum_of_its_years(tmp_path):
    text = changed("1 | Nâng cấp hạ tầng | 8.000 | 5.000 | 3.000 |", "1 | Nâng cấp hạ tầng | 8.100 | 5.000 | 3.000 |")
    tables = audit(tmp_path, text)
    f = one_of(tables, "investment_row_total")
    assert (f["severity"], f["resource"], f["row_key"]) == ("error", "investments", '{"item_no":"1"}')
    assert (f["expected"], f["actual"]) == (Decimal(8000), Decimal(8100))
    # ... and the 'Tổng' column total no longer adds up.
    assert [c["expected"] for c in findings(tables, "investment_column_total")] == [Decimal(8100)]


def test_an_investment_column_total(tmp_path):
    text = changed("| Tổng: | 8.000 | 5.000 | 3.000 |", "| Tổng: | 8.000 | 5.000 | 3.500 |")
    tables = audit(tmp_path, text)
    f = one_of(tables, "investment_column_total")
    assert (f["row_key"], f["expected"], f["actual"]) == ('{"column_key":"2026"}', Decimal(3000), Decimal(3500))
    # The totals row itself: 8.000 against 5.000 + 3.500.
    row = one_of(tables, "investment_row_total")
    assert (row["resource"], row["expected"], row["actual"]) == (
        "investment_stated_totals", Decimal(8500), Decimal(8000))


def test_the_plan_years_investment_against_the_budget(tmp_path):
    text = changed("1 | Nâng cấp hạ tầng | 8.000 | 5.000 | 3.000 |", "1 | Nâng cấp hạ tầng | 8.000 | 5.200 | 2.800 |")
    text = changed("| Tổng: | 8.000 | 5.000 | 3.000 |", "| Tổng: | 8.000 | 5.200 | 2.800 |", text)
    tables = audit(tmp_path, text)
    f = one_of(tables, "investment_year_vs_budget")
    assert (f["severity"], f["row_key"]) == ("error", '{"column_key":"2025"}')
    assert (f["expected"], f["actual"], f["difference"]) == (Decimal(5000), Decimal(5200), Decimal(200))
    # The item of the same name in the budget ('…: Năm 2025') disagrees as well.
    item = one_of(tables, "investment_item_vs_budget_item")
    assert (item["row_key"], item["expected"], item["actual"]) == (
        '{"item_no":"1","year":2025}', Decimal(5000), Decimal(5200))
    assert "1.1" in item["message_en"]


def test_an_investment_item_with_a_blank_total(tmp_path):
    text = changed("1 | Nâng cấp hạ tầng | 8.000 | 5.000 | 3.000 |", "1 | Nâng cấp hạ tầng |\n| 5.000 | 3.000 |")
    f = one_of(audit(tmp_path, text), "investment_total_blank")
    assert (f["severity"], f["expected"], f["actual"]) == ("warning", Decimal(8000), None)


# --- the text's funding section (budget_summary, from the narrative reader) ---------------

def summary_table(*rows: tuple[str, str, str, str]) -> pa.Table:
    """A budget_summary table as the narrative issue defines it (built here, whatever the schema)."""
    amounts = [Decimal(a.replace(".", "").replace(",", ".")) for _, _, a, _ in rows]
    return pa.table({
        "plan_id": [PLAN_ID] * len(rows),
        "budget_level": [r[0] for r in rows],
        "expenditure_type": [r[1] for r in rows],
        "amount_million_vnd": pa.array(amounts, pa.decimal128(20, 6)),
        "amount_text": [r[2] for r in rows],
        "text": [r[3] for r in rows],
        "section_id": ["V"] * len(rows),
        "source_line": pa.array(range(6, 6 + len(rows)), pa.int64()),
    })


def test_section_v_against_the_budget_appendix(tmp_path):
    summary = summary_table(
        ("all", "all", "6.540", "Tổng kinh phí là 6.540 triệu đồng"),
        ("province", "recurrent", "1.750,5", "Chi thường xuyên cấp tỉnh là 1.750,5 triệu đồng"),
        ("district", "recurrent", "40,0", "Chi thường xuyên cấp huyện là 40,0 triệu đồng"),
        ("all", "investment", "5.000", "Chi đầu tư phát triển là 5.000 triệu đồng"),
    )
    tables = audit(tmp_path, BASE, budget_summary=summary)
    f = only(tables, "section_v_vs_appendix")
    assert (f["severity"], f["resource"]) == ("error", "budget_summary")
    assert f["row_key"] == '{"budget_level":"province","expenditure_type":"recurrent"}'
    assert (f["expected"], f["actual"], f["difference"]) == (Decimal(1500), Decimal("1750.5"), Decimal("250.5"))
    assert f["source_line"] == 7
    assert "1.750,5" in f["message_vi"] and "1,500" in f["message_en"]


def test_section_v_rule_is_skipped_without_a_budget_summary(tmp_path):
    path = write_plan(tmp_path, BASE, "bdi-45-KH-UBND-2025.txt")
    tables = {k: v for k, v in parse_source(read_source(path)).items() if k != "budget_summary"}
    result = run_audit(tables)
    assert "section_v_vs_appendix" in result.skipped
    rule = next(r for r in result.tables["audit_rules"].to_pylist() if r["rule_id"] == "section_v_vs_appendix")
    assert (rule["status"], rule["findings"]) == ("skipped", 0)


# --- numbering ------------------------------------------------------------------------

def test_a_numbering_gap(tmp_path):
    text = changed("1.2 | Triển khai nền tảng B |", "1.4 | Triển khai nền tảng B |")
    f = only(audit(tmp_path, text), "numbering_gap")
    assert (f["severity"], f["resource"], f["row_key"]) == ("warning", "tasks", '{"task_code":"1.4"}')
    assert "1.2–1.3" in f["message_en"] and f["source_line"] == line_of(text, "1.4 |")


def test_a_missing_group_number(tmp_path):
    text = changed("2 | Kinh tế số |\n|\n|\n2.1 | Thương mại", "3 | Kinh tế số |\n|\n|\n3.1 | Thương mại")
    f = only(audit(tmp_path, text), "numbering_gap")
    assert f["row_key"] == '{"group_no":3}' and "2 is missing" in f["message_en"]


def test_a_duplicate_number(tmp_path):
    text = changed("1.2 | Triển khai nền tảng B |", "1.1 | Triển khai nền tảng B |")
    tables = audit(tmp_path, text)
    f = one_of(tables, "numbering_duplicate")
    assert (f["row_key"], f["severity"]) == ('{"task_code":"1.1-2"}', "warning")
    assert f"line {line_of(text, '1.1 | Triển khai nền tảng A')}" in f["message_en"]


def test_a_malformed_number(tmp_path):
    text = changed("1.2 | Triển khai nền tảng B |", "1 2 | Triển khai nền tảng B |")
    f = only(audit(tmp_path, text), "numbering_malformed")
    assert f["row_key"] == '{"task_code":"1.2"}' and "“1 2”" in f["message_vi"]


def test_a_number_outside_its_group(tmp_path):
    text = changed("1.2 | Triển khai nền tảng B |", "2.2 | Triển khai nền tảng B |")
    tables = audit(tmp_path, text)
    f = one_of(tables, "numbering_outside_group")
    assert f["row_key"] == '{"task_code":"2.2"}' and "group 1" in f["message_en"]


# --- agencies and deadlines ----------------------------------------------------------------

def test_a_task_without_lead_agency(tmp_path):
    text = changed("1.2 | Triển khai nền tảng B | Sở Y tế | Thường xuyên |",
                   "1.2 | Triển khai nền tảng B |\n| Thường xuyên |")
    f = only(audit(tmp_path, text), "task_no_lead_agency")
    assert (f["severity"], f["row_key"]) == ("warning", '{"task_code":"1.2"}')


def test_an_unknown_agency(tmp_path):
    text = changed("| Sở Y tế | Thường xuyên |", "| Sở Hải đảo | Thường xuyên |")
    f = only(audit(tmp_path, text), "agency_unresolved")
    assert f["row_key"] == '{"task_code":"1.2","mention_no":1}' and "Sở Hải đảo" in f["message_en"]


def test_a_task_without_deadline(tmp_path):
    text = changed("| Sở Y tế | Thường xuyên |", "| Sở Y tế |\n|")
    f = only(audit(tmp_path, text), "task_no_deadline")
    assert f["row_key"] == '{"task_code":"1.2"}' and "blank" in f["message_en"]


def test_a_deadline_before_the_issue_date(tmp_path):
    f = only(audit(tmp_path, changed("| Quý IV/2025 |", "| 30/12/2024 |")), "deadline_before_issue")
    assert (f["severity"], f["row_key"]) == ("error", '{"task_code":"1.1"}')
    assert "30/12/2024" in f["message_en"] and "05/01/2025" in f["message_en"]


def test_a_deadline_after_the_horizon(tmp_path):
    # The horizon is the later of the plan year (2025) and the phasing's last year (2026).
    tables = audit(tmp_path, changed("| 2025 - 2026 |", "| 2025 - 2027 |"))
    f = only(tables, "deadline_after_horizon")
    assert (f["severity"], f["row_key"]) == ("warning", '{"task_code":"2.1"}')
    assert "2026" in f["message_en"]


def test_a_document_cited_with_another_year_than_in_the_related_list(tmp_path):
    related = "- 1 Nghị quyết 01/NQ-CP năm 2024 về nhiệm vụ, giải pháp chủ yếu thực hiện kế hoạch\n"
    text = related + changed("Nghị quyết số 01/NQ-CP ngày 06/01/2025", "Nghị quyết số 01/NQ-CP ngày 06/01/2025")
    f = only(audit(tmp_path, text), "citation_year_mismatch")
    assert (f["severity"], f["resource"], f["source_line"]) == ("warning", "citations", 7)
    assert "01/NQ-CP of 2024" in f["message_en"] and "gives the year 2025" in f["message_en"]
    # the same year in both places is the same document: no finding
    same = related.replace("năm 2024", "năm 2025") + BASE
    assert [x for x in findings(audit(tmp_path, same)) if x["rule_id"] == "citation_year_mismatch"] == []


def test_findings_are_ordered_by_severity_then_line(tmp_path):
    text = changed("| Tổng: 6.540 |", "| Tổng: 6.540,4 |")  # info, last line
    text = changed("1.2 | Triển khai nền tảng B |", "1 2 | Triển khai nền tảng B |", text)  # warning
    text = changed("| 2025 - 2026 |", "| 30/12/2024 |", text)  # error, after the warning's line
    found = [(f["severity"], f["rule_id"]) for f in findings(audit(tmp_path, text))]
    assert found == [
        ("error", "deadline_before_issue"), ("warning", "numbering_malformed"), ("info", "budget_total_label")]
