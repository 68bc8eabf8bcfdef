from datetime import date
from decimal import Decimal

import pytest

from kehoach.core.errors import KehoachError
from kehoach.parse.values import parse_amount, parse_deadline, parse_dmy, parse_number, unit_factor


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17.017", Decimal("17017")),
        ("8.272,20", Decimal("8272.20")),
        ("256.785,7", Decimal("256785.7")),
        ("800", Decimal("800")),
        ("1.000.000", Decimal("1000000")),
        ("0,5", Decimal("0.5")),
        ("237.422,00", Decimal("237422.00")),
    ],
)
def test_vietnamese_numbers_are_exact_decimals(text, expected):
    value = parse_number(text)
    assert isinstance(value, Decimal)
    assert value == expected


@pytest.mark.parametrize("text", ["1.5", "12.34", "1.0000", "abc", "1,2,3", "17 017"])
def test_malformed_numbers_are_refused(text):
    with pytest.raises(KehoachError, match="not a Vietnamese number"):
        parse_number(text)


def test_dash_is_explicit_zero_and_blank_is_nothing_stated():
    dash, blank = parse_amount("-"), parse_amount("  ")
    assert (dash.value, dash.stated, dash.text) == (Decimal(0), "dash", "-")
    assert (blank.value, blank.stated, blank.is_stated) == (None, "blank", False)
    assert parse_amount("–").stated == "dash"


def test_dates():
    assert parse_dmy("20/12/2023") == date(2023, 12, 20)
    assert parse_dmy("3/4/2020") == date(2020, 4, 3)
    with pytest.raises(KehoachError, match="not a calendar date"):
        parse_dmy("31/2/2024")


@pytest.mark.parametrize(
    ("text", "kind", "deadline"),
    [
        ("30/3/2024", "date", date(2024, 3, 30)),
        ("15/5/2024 30/11/2024", "dates", date(2024, 11, 30)),
        ("Thường xuyên", "ongoing", None),
        ("2024-2025", "year_range", date(2025, 12, 31)),
        ("2024 - 2025", "year_range", date(2025, 12, 31)),
        ("Hằng năm", "annual", None),
        ("Hàng năm", "annual", None),
        ("Quý trong năm", "quarterly", None),
        ("Quý IV/2026", "quarter", date(2026, 12, 31)),
        ("Quý I năm 2024", "quarter", date(2024, 3, 31)),
        ("30/12/2024 và thường xuyên", "mixed", date(2024, 12, 30)),
        ("Thường xuyên và 30/12/2024", "mixed", date(2024, 12, 30)),
        ("12/2023", "month", date(2023, 12, 31)),
        ("Năm 2024", "year", date(2024, 12, 31)),
        ("trước 30/3/2024", "date", date(2024, 3, 30)),
        ("", "none", None),
        ("khi có kinh phí", "other", None),
    ],
)
def test_deadline_kinds_and_latest_date(text, kind, deadline):
    parsed = parse_deadline(text)
    assert (parsed.kind, parsed.date) == (kind, deadline)
    assert parsed.text == text.strip()


def test_units_convert_to_million_vnd():
    assert unit_factor("Triệu đồng") == 1
    assert unit_factor("Tỷ đồng") == 1000
    with pytest.raises(KehoachError, match="unknown money unit"):
        unit_factor("USD")
