"""The Excel workbook, read back with openpyxl: codes stay text, money equals the Parquet value,
dates are dates, and the codebook describes every column in both languages."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from kehoach.core.model import load_schema, resource_names
from kehoach.package.workbook import CODEBOOK_SHEET, MONEY_FORMAT, WORKBOOK_FILE


@pytest.fixture(scope="module")
def workbook(built_package):
    return load_workbook(built_package / WORKBOOK_FILE)


def sheet_rows(workbook, name: str) -> list[dict]:
    rows = list(workbook[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_one_sheet_per_table_with_every_row(workbook, built_package):
    for name in resource_names():
        table = pq.read_table(built_package / "data" / f"{name}.parquet")
        rows = list(workbook[name].iter_rows(values_only=True))
        assert list(rows[0]) == [f["name"] for f in load_schema(name)["fields"]]
        assert len(rows) - 1 == table.num_rows


def test_codes_stay_text(workbook, built_package):
    items = sheet_rows(workbook, "budget_items")
    codes = [r["item_code"] for r in items]
    assert "2.10" in codes and "2.1" in codes  # two different items, not one number
    assert all(isinstance(c, str) for c in codes)
    parquet = [r["item_code"] for r in pq.read_table(built_package / "data/budget_items.parquet").to_pylist()]
    assert codes == parquet


def test_money_is_the_exact_parquet_value(workbook, built_package):
    lines = sheet_rows(workbook, "budget_lines")
    parquet = pq.read_table(built_package / "data/budget_lines.parquet").to_pylist()
    assert len(lines) == len(parquet)
    for got, want in zip(lines, parquet, strict=True):
        assert isinstance(got["amount_million_vnd"], int | float)
        assert Decimal(str(got["amount_million_vnd"])) == want["amount_million_vnd"]
        assert got["item_code"] == want["item_code"] and got["amount_text"] == want["amount_text"]
    total = sum(Decimal(str(r["amount_million_vnd"])) for r in lines)
    assert total == sum(r["amount_million_vnd"] for r in parquet)
    column = [f["name"] for f in load_schema("budget_lines")["fields"]].index("amount_million_vnd") + 1
    assert workbook["budget_lines"].cell(2, column).number_format == MONEY_FORMAT


def test_dates_are_dates(workbook):
    plan = sheet_rows(workbook, "plans")[0]
    assert plan["issued_date"] == datetime(2023, 12, 20) and plan["number"] == "219/KH-UBND"


def test_codebook_in_both_languages(workbook):
    book = sheet_rows(workbook, CODEBOOK_SHEET)
    amount = next(r for r in book if r["table"] == "budget_lines" and r["column"] == "amount_million_vnd")
    field = next(f for f in load_schema("budget_lines")["fields"] if f["name"] == "amount_million_vnd")
    assert amount["title_vi"] == field["title_vi"] and amount["title_en"] == field["title"]
    assert amount["type"] == "number" and amount["unit"] == "million VND"
    described = {(r["table"], r["column"]) for r in book if r["column"]}
    assert described == {(n, f["name"]) for n in resource_names() for f in load_schema(n)["fields"]}
