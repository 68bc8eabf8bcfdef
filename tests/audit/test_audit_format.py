"""The rule-file format and the runner: headers, messages, rounding, errors in rules."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from kehoach.audit.runner import RULES_DIR, findings_of, load_rules, parse_rule, run_audit
from kehoach.core.display import format_date, format_number
from kehoach.core.errors import KehoachError
from kehoach.core.model import resource_names

RULE = """\
-- id: {id}
-- severity: error
-- reads: plans
-- title_vi: Thử
-- title_en: A test rule
-- message_vi: Kế hoạch {{plan_id}}: ghi {{actual}}, cộng được {{expected}} (chênh lệch {{difference}}).
-- message_en: Plan {{plan_id}}: states {{actual}},
--   the parts add up to {{expected}} (difference {{difference}}).
--
-- note: a free comment is not part of any value.
SELECT plan_id, '{{}}' AS row_key, 10.5 AS expected, 10.9 AS actual, 0.5 AS tolerance, source_line FROM plans
"""


def write_rule(directory: Path, rule_id: str = "test_rule", text: str = RULE) -> Path:
    path = directory / f"{rule_id}.sql"
    path.write_text(text.format(id=rule_id), encoding="utf-8")
    return path


def test_header_values_continue_on_indented_lines(tmp_path):
    rule = parse_rule(write_rule(tmp_path))
    assert (rule.rule_id, rule.severity, rule.reads) == ("test_rule", "error", ("plans",))
    assert rule.scope == "corpus"  # a rule that does not say it sees one plan at a time sees them all
    assert parse_rule(write_rule(tmp_path, text=RULE.replace("-- reads:", "-- scope: plan\n-- reads:"))).scope == "plan"
    assert rule.message_en == ("Plan {plan_id}: states {actual}, the parts add up to {expected} "
                               "(difference {difference}).")
    assert "note" not in rule.message_en


@pytest.mark.parametrize(("change", "message"), [
    (("-- id: {id}", "-- id: other_rule"), "differs from its file name"),
    (("-- severity: error", "-- severity: info"), "info is given to differences within rounding"),
    (("-- title_en: A test rule\n", ""), "lacks title_en"),
    (("-- reads: plans\n", "-- reads: plans\n-- reads: tasks\n"), "repeats 'reads'"),
    (("-- reads: plans\n", "-- reads: plans\n-- scope: plans\n"), "scope must be plan or corpus, not 'plans'"),
])
def test_a_bad_header_is_a_located_error(tmp_path, change, message):
    path = write_rule(tmp_path, text=RULE.replace(*change))
    with pytest.raises(KehoachError, match=message) as err:
        parse_rule(path)
    assert err.value.path == str(path)


def test_vietnamese_and_english_number_formats():
    assert format_number(Decimal("256785.700000"), "vi") == "256.785,7"
    assert format_number(Decimal("256785.700000"), "en") == "256,785.7"
    assert format_number(Decimal("10135.000000"), "vi") == "10.135"
    assert format_number(Decimal("-0.2"), "vi", signed=True) == "-0,2"
    assert format_number(Decimal("5"), "en", signed=True) == "+5"


def test_rounding_equality_and_messages(tmp_path):
    rule = parse_rule(write_rule(tmp_path))
    columns = ["plan_id", "row_key", "expected", "actual", "tolerance", "source_line"]
    rows = [("p", '{"k":1}', Decimal("10.5"), Decimal("10.9"), Decimal("0.5"), 3),  # within ±0,5: info
            ("p", '{"k":2}', Decimal("10.5"), Decimal("11.1"), Decimal("0.5"), 4),  # beyond: the rule's severity
            ("p", '{"k":3}', Decimal("10.5"), Decimal("10.5"), Decimal("0.5"), 5)]  # equal: no finding
    out = findings_of(rule, columns, rows)
    assert [(f["row_key"], f["severity"], f["difference"]) for f in out] == [
        ('{"k":1}', "info", Decimal("0.4")), ('{"k":2}', "error", Decimal("0.6"))]
    assert out[0]["message_vi"] == ("Kế hoạch p: ghi 10,9, cộng được 10,5 (chênh lệch +0,4). Chênh lệch nằm "
                                    "trong sai số làm tròn của các số như được ghi (±0,5).")
    assert out[1]["message_en"] == "Plan p: states 11.1, the parts add up to 10.5 (difference +0.6)."
    assert out[1]["resource"] == "plans"  # the first table it reads, when the query names none


def test_a_message_naming_a_column_the_query_lacks(tmp_path):
    path = write_rule(tmp_path, text=RULE.replace("Plan {{plan_id}}", "Plan {{plan_name}}"))
    with pytest.raises(KehoachError, match=r"message_en uses \{plan_name\}") as err:
        findings_of(parse_rule(path), ["plan_id", "row_key"], [("p", "{}")])
    assert err.value.path == str(path)


def test_a_failing_query_names_its_rule_file(tmp_path, plan_tables):
    path = write_rule(tmp_path, text=RULE.replace("FROM plans", "FROM no_such_table"))
    with pytest.raises(KehoachError, match=r"audit rule test_rule failed: .*no_such_table") as err:
        run_audit(plan_tables, [parse_rule(path)])
    assert err.value.path == str(path)


def test_two_findings_for_one_row_is_a_rule_error(tmp_path, plan_tables):
    path = write_rule(tmp_path, text=RULE.replace("FROM plans", "FROM plans, (VALUES (1), (2)) v(n)"))
    with pytest.raises(KehoachError, match="two findings for the same row_key"):
        run_audit(plan_tables, [parse_rule(path)])


def test_a_rule_reading_a_missing_table_is_skipped(tmp_path, plan_tables):
    path = write_rule(tmp_path, text=RULE.replace("-- reads: plans", "-- reads: plans, no_such_table"))
    result = run_audit(plan_tables, [parse_rule(path)])
    assert result.skipped == ["test_rule"] and result.tables["findings"].num_rows == 0
    assert result.tables["audit_rules"].to_pylist()[0]["status"] == "skipped"


def test_the_shipped_rules():
    rules = load_rules()
    assert len({r.rule_id for r in rules}) == len(rules) == len(list(RULES_DIR.glob("*.sql")))
    optional = {"budget_summary"}  # read by a rule, written by the narrative reader
    for rule in rules:
        assert set(rule.reads) <= set(resource_names()) | optional, rule.rule_id
        assert rule.rule_file == f"kehoach/audit/rules/{rule.rule_id}.sql"
        for name in ("budget_summary",):
            assert (name in rule.sql) == (name in rule.reads), rule.rule_id


def test_dates_are_written_as_each_language_reads_them():
    assert format_date(date(2023, 12, 20), "vi") == "20/12/2023"
    assert format_date(date(2024, 3, 5), "en") == "5 March 2024"
    assert format_number(Decimal("224826.35"), "vi", places=1) == "224.826,4"
    assert format_number(224826, "en", places=0) == "224,826"


def test_the_audit_keeps_to_the_duckdb_budget(plan_tables, tmp_path, monkeypatch):
    # bounded as the build's other connections are (KEHOACH_DUCKDB_MEMORY); out of it, DuckDB's error
    # (which the CLI says in one line), not a rule's
    monkeypatch.setenv("KEHOACH_DUCKDB_MEMORY", "1MB")
    with pytest.raises(duckdb.OutOfMemoryException):
        run_audit(plan_tables, spill_in=tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing left where it would spill
