"""The changelog between two package versions, on small tables built in the tests."""

import json
from decimal import Decimal

import pytest

from kehoach.core.errors import KehoachError
from kehoach.core.model import load_schema, rows_to_arrow
from kehoach.versions.diff import details, diff_tables, number_changes, summary

SCHEMAS = {name: load_schema(name) for name in ("budget_lines", "tasks")}
PLAN = "p-1-2024"


def line(item, amount, text, source_line, level="province", kind="recurrent"):
    return dict(plan_id=PLAN, item_code=item, budget_level=level, expenditure_type=kind,
                amount_million_vnd=Decimal(amount), stated_as="dash" if text == "-" else "number",
                amount_text=text, source_line=source_line)


def lines(*rows):
    return {"budget_lines": rows_to_arrow("budget_lines", list(rows))}


def test_added_removed_and_changed_rows_on_primary_keys():
    old = lines(line("1.1", "800", "800", 10), line("1.2", "360", "360", 11), line("1.3", "0", "-", 12))
    new = lines(line("1.1", "900", "900", 10), line("1.3", "0", "-", 12), line("1.4", "5", "5", 13))
    changes = diff_tables(old, new, SCHEMAS)
    kinds = sorted((c["change"], json.loads(c["row_key"])["item_code"], c["field"]) for c in changes)
    assert kinds == [
        ("added", "1.4", None),
        ("changed", "1.1", "amount_million_vnd"),
        ("changed", "1.1", "amount_text"),
        ("removed", "1.2", None),
    ]
    amount = next(c for c in changes if c["field"] == "amount_million_vnd")
    assert (amount["old_value"], amount["new_value"], amount["plan_id"]) == ("800", "900", PLAN)
    removed = next(c for c in changes if c["change"] == "removed")
    assert (removed["old_source_line"], removed["source_line"]) == (11, None)


def test_shifted_source_lines_are_not_changes():
    old = lines(line("1.1", "800", "800", 10), line("1.2", "360", "360", 11))
    new = lines(line("1.1", "800", "800", 11), line("1.2", "360", "360", 12))
    assert diff_tables(old, new, SCHEMAS) == []


def test_rows_in_another_order_are_matched_on_their_keys():
    # equal tables are no change without a query; reordered ones are matched on the key, not the position
    old = lines(line("1.1", "800", "800", 10), line("1.2", "360", "360", 11))
    assert diff_tables(old, lines(line("1.2", "360", "360", 11), line("1.1", "800", "800", 10)), SCHEMAS) == []
    moved = lines(line("1.2", "361", "361", 11), line("1.1", "800", "800", 10))
    assert sorted((c["field"], c["old_value"], c["new_value"]) for c in diff_tables(old, moved, SCHEMAS)) == [
        ("amount_million_vnd", "360", "361"), ("amount_text", "360", "361")]


def test_explicit_zero_versus_blank_is_a_change():
    old = lines(line("1.3", "0", "-", 12))
    new = lines(line("1.3", "0", "0", 12))
    changes = diff_tables(old, new, SCHEMAS)
    assert sorted((c["field"], c["old_value"], c["new_value"]) for c in changes) == [
        ("amount_text", "-", "0"), ("stated_as", "dash", "number")]


def test_tables_appearing_and_disappearing_are_structural_changes():
    old = lines(line("1.1", "800", "800", 10))
    new = {}
    changes = diff_tables(old, new, SCHEMAS)
    assert [(c["resource"], c["change"]) for c in changes] == [("budget_lines", "resource_removed")]


def test_a_table_without_a_common_key_cannot_be_compared():
    old = lines(line("1.1", "800", "800", 10))
    with pytest.raises(KehoachError, match="no primary key"):
        diff_tables(old, old, {"budget_lines": {"fields": []}})


def test_summary_and_numbering():
    old = lines(line("1.1", "800", "800", 10), line("1.2", "360", "360", 11))
    new = lines(line("1.1", "900", "900", 10))
    changes = diff_tables(old, new, SCHEMAS, derived=frozenset())
    assert summary(changes, "1.1.0", "1.0.0") == "Version 1.1.0 (replaces 1.0.0): budget_lines: 1 changed, 1 removed."
    assert summary(changes, "1.1.0", "1.0.0", "vi") == "Phiên bản 1.1.0 (thay cho 1.0.0): budget_lines: 1 sửa, 1 bớt."
    table = number_changes(changes, "1.1.0", "1.0.0")
    assert table.column("change_no").to_pylist() == [1, 2, 3]
    assert set(table.column("version").to_pylist()) == {"1.1.0"}
    text = "\n".join(details(changes))
    key = "item_code=1.1, budget_level=province, expenditure_type=recurrent"
    assert f"budget_lines [{key}] amount_text: '800' → '900'" in text


def test_derived_tables_are_reported_apart():
    old = lines(line("1.1", "800", "800", 10))
    new = lines(line("1.1", "900", "900", 10))
    changes = diff_tables(old, new, SCHEMAS, derived=frozenset({"budget_lines"}))
    assert all(c["derived"] for c in changes)
    assert summary(changes) == (
        "no change to the document's tables. Audit and other derived tables: budget_lines: 1 changed.")
