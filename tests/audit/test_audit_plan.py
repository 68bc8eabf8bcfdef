"""The audit of the real 2024 Quảng Ngãi plan (raw/qni-219-KH-UBND-2023.txt).

Every figure below was added up by hand from the text: the appendices'
subtotals and column totals are right, but the grand total's label, the
text's funding section and appendix 3 disagree with appendix 2's columns.
"""

from decimal import Decimal

import pytest

from kehoach.audit.runner import run_audit, strict_error, summary


@pytest.fixture(scope="module")
def audited(plan_tables):
    return run_audit(plan_tables)


def found(audited, rule_id: str) -> list[dict]:
    return [f for f in audited.tables["findings"].to_pylist() if f["rule_id"] == rule_id]


def figures(f: dict) -> tuple:
    return f["severity"], f["expected"], f["actual"], f["difference"]


def test_the_grand_total_label_is_not_the_sum_of_the_columns(audited, plan_source):
    # 'Tổng: 256.785,7' but 70.276 + 144.415 + 10.135 + '-' = 224.826
    [f] = found(audited, "budget_total_label")
    assert figures(f) == ("error", Decimal(224826), Decimal("256785.7"), Decimal("31959.7"))
    assert f["row_key"] == '{"total_id":"grand","budget_level":"all","expenditure_type":"all"}'
    assert "Tổng: 256.785,7" in plan_source.line(f["source_line"])
    assert "224.826" in f["message_vi"] and "+31,959.7" in f["message_en"]


def test_appendix_3_year_2024_against_appendix_2_investment(audited, plan_source):
    # Appendix 3 states 144.420,00 for 2024; appendix 2's investment column says 144.415 (district: '-').
    [f] = found(audited, "investment_year_vs_budget")
    assert figures(f) == ("error", Decimal(144415), Decimal(144420), Decimal(5))
    assert f["row_key"] == '{"column_key":"2024"}'
    assert "144.420,00" in plan_source.line(f["source_line"])


def test_rounding_in_appendix_3_is_info(audited, plan_source):
    # Item 2: 8.272,20 + 5.002 = 13.274,20, its total says 13.274; the 2024 column adds to 144.420,20.
    [row] = found(audited, "investment_row_total")
    assert figures(row) == ("info", Decimal("13274.2"), Decimal(13274), Decimal("-0.2"))
    assert row["row_key"] == '{"item_no":"2"}' and row["tolerance"] == Decimal("0.5")
    [column] = found(audited, "investment_column_total")
    assert figures(column) == ("info", Decimal("144420.2"), Decimal(144420), Decimal("-0.2"))
    # Appendix 2 item 2.5 ('… giai đoạn 2024 - 2025: Năm 2024') writes 8.272 for appendix 3's 8.272,20.
    [item] = found(audited, "investment_item_vs_budget_item")
    assert figures(item) == ("info", Decimal(8272), Decimal("8272.2"), Decimal("0.2"))
    assert item["row_key"] == '{"item_no":"2","year":2024}' and "2.5" in item["message_en"]
    assert "8.272,20" in plan_source.line(item["source_line"])


def test_warnings_of_the_plan(audited, plan_source):
    warnings = {(f["rule_id"], f["row_key"]) for f in audited.tables["findings"].to_pylist()
                if f["severity"] == "warning"}
    assert warnings == {
        ("numbering_gap", '{"item_code":"4.7"}'),  # appendix 2 skips 4.6
        ("numbering_malformed", '{"task_code":"9.2"}'),  # written '9 2'
        ("budget_total_blank", '{"total_id":"group-3","budget_level":"district","expenditure_type":"recurrent"}'),
        ("task_no_deadline", '{"task_code":"4.4"}'),
        ("task_no_deadline", '{"task_code":"5.3"}'),
        # 131/QĐ-TTg is listed as of 2022 and cited at line 240 as "ngày 25/01/2023"
        ("citation_year_mismatch", '{"section_id":"II.III.10","line_in_section":1,"position":1}'),
    }
    [malformed] = found(audited, "numbering_malformed")
    assert plan_source.line(malformed["source_line"]).startswith("9 2 |")
    [gap] = found(audited, "numbering_gap")
    assert gap["resource"] == "budget_items" and "4.6" in gap["message_en"]
    [blank] = found(audited, "budget_total_blank")
    assert blank["expected"] == 0 and plan_source.line(blank["source_line"]).startswith("3 | Dữ liệu số")


def test_nothing_is_reported_on_the_consistent_parts(audited):
    # Every group subtotal equals its lines; each grand-total column equals its lines and its groups;
    # every agency resolves, to an agency that existed on the issue date; every deadline is between
    # the issue date and the end of 2025.
    consistent = ("budget_group_subtotal", "budget_grand_total_vs_lines", "budget_grand_total_vs_groups",
                  "budget_item_no_amount", "investment_total_blank", "numbering_duplicate",
                  "numbering_outside_group", "task_no_lead_agency", "agency_unresolved", "agency_ceased",
                  "deadline_before_issue", "deadline_after_horizon")
    rules = {r["rule_id"]: r for r in audited.tables["audit_rules"].to_pylist()}
    for rule_id in consistent:
        assert (rules[rule_id]["status"], rules[rule_id]["findings"]) == ("ran", 0), rule_id
        assert found(audited, rule_id) == []


def test_section_v_against_appendix_2(audited, plan_tables):
    assert plan_tables["budget_summary"].num_rows == 4
    by_key = {f["row_key"]: figures(f) for f in found(audited, "section_v_vs_appendix")}
    assert by_key == {
        '{"budget_level":"all","expenditure_type":"all"}':
            ("error", Decimal(224826), Decimal("256785.7"), Decimal("31959.7")),
        '{"budget_level":"province","expenditure_type":"recurrent"}':
            ("error", Decimal(70276), Decimal("71955.5"), Decimal("1679.5")),
        '{"budget_level":"province","expenditure_type":"investment"}':
            ("error", Decimal(144415), Decimal("174695.2"), Decimal("30280.2")),
    }  # district recurrent: 10.135,0 in the text, 10.135 in appendix 2: consistent


def test_strict_fails_on_the_first_error_in_document_order(audited, plan_source):
    error = strict_error(audited.tables, [plan_source])
    errors = [f for f in audited.tables["findings"].to_pylist() if f["severity"] == "error"]
    assert error.path == plan_source.path and error.line == min(f["source_line"] for f in errors)
    assert str(error).startswith(f"{plan_source.path}:{error.line}: --strict: the audit found {len(errors)} error(s)")


def test_the_summary_counts_the_findings(audited):
    vi, en = summary(audited.tables)
    counts = {s: sum(f["severity"] == s for f in audited.tables["findings"].to_pylist())
              for s in ("error", "warning", "info")}
    assert f"{counts['error']} lỗi" in vi and f"{counts['warning']} warning(s)" in en
    assert "256,785.7" in en
