"""The plan of raw/ re-published in other sites' layouts reads into the very same tables.

Each renderer below turns the text of raw/ into a layout met on real sites
(see tests/fixtures/README.md): plain header lines between rules and blank
lines, a metadata table first with no 'KẾ HOẠCH' line, standard markdown
tables, hard-wrapped lines and cells. Every table of the parse must equal the
one parsed from raw/, row for row; only provenance (line positions, the
file's name and hash) may differ.
"""

from __future__ import annotations

import re

import pytest
from helpers import PLAN_FILE, write_plan

from kehoach.audit.runner import run_audit
from kehoach.parse.plan import parse_source
from kehoach.read.sources import read_source

# Line positions and the file's identity move with the layout; nothing else may.
PROVENANCE = {"source_line", "marker_line", "line_end", "line_in_section", "source_file", "source_sha256"}
# What a page's metadata table says of the document is the page's, not the document's: only the layout
# that has such a table fills these fields of plans (test_metadata_fields_are_what_the_page_states).
PAGE_METADATA = {"metadata_number", "metadata_issued_date", "metadata_doc_type", "metadata_line"}
_TABLE_HEAD = re.compile(r"^S?TT\s*\|")
_NUMBER_CELL = re.compile(r"^Số:\s*(\S+)$")
_DATE_CELL = re.compile(r"^(.+?),\s*ngày\s+(\d+)\s+tháng\s+(\d+)\s+năm\s+(\d{4})$")
# A hard wrap never starts a line with what reads as a list marker or a heading number, nor
# breaks right after a full stop: those breaks cannot be told from paragraph breaks.
_UNIT_START = re.compile(r"^(?:[-+•–*]|\d+[.)]|[IVXLC]+\.|[a-zđ]\)|\[\d+\]|\(\d+\))")


def raw_lines() -> list[str]:
    return PLAN_FILE.read_text(encoding="utf-8").split("\n")


def header_span(lines: list[str]) -> tuple[int, int]:
    """(first header line, the document-type line) of the raw text."""
    start = next(i for i, line in enumerate(lines) if not line.startswith("- "))
    return start, next(i for i in range(start, len(lines)) if lines[i].strip() == "KẾ HOẠCH")


def header_cells(lines: list[str]) -> list[str]:
    start, type_at = header_span(lines)
    return [c.strip() for line in lines[start:type_at] for c in line.split("|") if c.strip()]


def body_span(lines: list[str]) -> tuple[int, int]:
    """(first line after the title, the signature line) of the raw text."""
    _, type_at = header_span(lines)
    title_end = next(i for i in range(type_at + 1, len(lines)) if lines[i] != lines[i].upper())
    signature = next(i for i in range(title_end, len(lines)) if lines[i].startswith("|"))
    return title_end, signature


# --- renderers -----------------------------------------------------------------

def plain_header(lines: list[str]) -> list[str]:
    """hethongphapluat.com: a banner, header cells as plain lines between rules and blank lines,
    a no-break-space line, paragraphs separated by blank lines."""
    start, type_at = header_span(lines)
    issuer, motto, number, place_date = header_cells(lines)
    header = ["Hệ thống pháp luật", "", issuer, "-------", "", motto, "Độc lập - Tự do - Hạnh phúc",
              "---------------", "", number, "", place_date, "", "\u00a0", ""]
    title_end, signature = body_span(lines)
    title = [x for line in lines[type_at:title_end] for x in (line, "")]
    body = [x for line in lines[title_end:signature] for x in (line, "")]
    return lines[:start] + header + title + body + lines[signature:]


def metadata_first(lines: list[str]) -> list[str]:
    """nhansu.vn: the title as a page heading, a key/value metadata table, header cells ending with
    ' |' with lone '|' lines between them, and no 'KẾ HOẠCH' line."""
    start, type_at = header_span(lines)
    issuer, motto, number, place_date = header_cells(lines)
    number_text = _NUMBER_CELL.match(number)[1]
    _, day, month, year = _DATE_CELL.match(place_date).groups()
    page_title = f"Kế hoạch {number_text} năm {year} {lines[type_at + 1].lower()}"
    meta = [f"| Số hiệu | {number_text} |", f"| Ngày ban hành | {day}/{month}/{year} |",
            "| Loại văn bản | Kế hoạch |", "| Người ký | Đặng Văn Minh |", "|"]
    header = [f"{issuer} |", f"{motto} |", "|", f"{number} |", f"{place_date} |"]
    return [*lines[:start], page_title, *meta, *header, *lines[type_at + 1:]]


def markdown_tables(lines: list[str]) -> list[str]:
    """Every appendix table as a standard markdown table: the first header row, the separator, further
    header rows flattened into short rows, one line per data row with empty cells inline."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not _TABLE_HEAD.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        first = _cells(lines[i])
        width = len(first)
        rows = [first]
        i += 1
        while "|" in lines[i] and not lines[i].startswith("|") and not re.match(r"^\d", lines[i]):
            rows.append(_cells(lines[i]))
            i += 1
        flat: list[str] = []
        while i < len(lines) and "|" in lines[i]:
            flat += _cells(lines[i])
            i += 1
        data = [flat[k:k + width] for k in range(0, len(flat), width)]
        out.append(_md_row(rows[0], width))
        out.append("| " + " | ".join(["---"] * width) + " |")
        out += [_md_row([c for c in row if c], len([c for c in row if c])) for row in rows[1:]]
        out += [_md_row(row, width) for row in data]
    return out


def _cells(line: str) -> list[str]:
    parts = line.split("|")
    if not parts[-1].strip():
        parts.pop()
    return [p.strip() for p in parts]


def _md_row(cells: list[str], width: int) -> str:
    return "| " + " | ".join(cells + [""] * (width - len(cells))) + " |"


def hard_wrapped(lines: list[str], width: int = 60) -> list[str]:
    """thuvienphapluat.vn: header cells as blocks split by lone '|' lines and wrapped inside
    ('ỦY' / 'BAN NHÂN DÂN', 'Số:' / '219/KH-UBND', 'Quảng Ngãi, ngày' / '20 tháng …'), the narrative
    wrapped at a fixed width, long table cells wrapped over two lines."""
    start, type_at = header_span(lines)
    issuer, motto, number, place_date = header_cells(lines)
    first, rest = issuer.split(" ", 1)
    place, date_text = place_date.split(", ", 1)
    header = [first, rest, "-------", "|", motto, "---------------", "|", *number.split(" ", 1), "|",
              f"{place}, ngày", date_text.removeprefix("ngày "), "|"]
    title_end, signature = body_span(lines)
    body = [x for line in lines[title_end:signature] for x in _wrap(line, width)]
    tail = [_wrap_cell(line, width) for line in lines[signature:]]
    return lines[:start] + header + lines[type_at:title_end] + body + tail


def _wrap(line: str, width: int) -> list[str]:
    if len(line) <= width or "|" in line:
        return [line]
    words, out, current = line.split(" "), [], []
    for word in words:
        if current and len(" ".join([*current, word])) > width and _can_break(current, word):
            out.append(" ".join(current))
            current = []
        current.append(word)
    return [*out, " ".join(current)]


def _can_break(before: list[str], word: str) -> bool:
    return not _UNIT_START.match(word) and not re.search(r"[.;:!?]$", before[-1])


def _wrap_cell(line: str, width: int) -> str:
    """The longest cell of a table line broken at a space near its middle."""
    cells = line.split("|")
    k = max(range(len(cells)), key=lambda j: len(cells[j]))
    text = cells[k]
    if len(text) <= width:
        return line
    middle = text.rfind(" ", 0, len(text) // 2)
    if middle <= 0:
        return line
    cells[k] = f"{text[:middle]}\n{text[middle + 1:]}"
    return "|".join(cells)


RENDERERS = {
    "plain header": plain_header,
    "metadata table, no 'KẾ HOẠCH'": metadata_first,
    "markdown tables": markdown_tables,
    "hard-wrapped lines and cells": hard_wrapped,
}


def without_provenance(tables) -> dict[str, list[dict]]:
    return {name: [{k: v for k, v in row.items() if k not in PROVENANCE | PAGE_METADATA} for row in table.to_pylist()]
            for name, table in tables.items()}


@pytest.fixture(scope="module")
def expected(plan_tables):
    return without_provenance(plan_tables)


@pytest.mark.parametrize("layout", RENDERERS)
def test_every_layout_gives_the_same_tables(layout, expected, tmp_path):
    text = "\n".join(RENDERERS[layout](raw_lines()))
    assert text != PLAN_FILE.read_text(encoding="utf-8")
    got = without_provenance(parse_source(read_source(write_plan(tmp_path, text))))
    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name] == expected[name], f"{layout}: table {name} differs"


def test_a_metadata_table_that_disagrees_with_the_header_is_reported(tmp_path, caplog):
    lines = raw_lines()
    start, _ = header_span(lines)
    number = _NUMBER_CELL.match(header_cells(lines)[2])[1]
    other = f"9{number}"
    text = "\n".join([*lines[:start], f"| Số hiệu | {other} |", *lines[start:]])
    path = write_plan(tmp_path, text)
    with caplog.at_level("WARNING", logger="flows.document"):
        tables = parse_source(read_source(path))
    assert tables["plans"].to_pylist()[0]["number"] == number
    assert f"{path}:{start + 1}: metadata number '{other}' differs from the header's '{number}'" in caplog.text


def test_metadata_fields_are_what_the_page_states(tmp_path, plan_tables):
    plan = plan_tables["plans"].to_pylist()[0]
    assert [plan[k] for k in sorted(PAGE_METADATA)] == [None] * 4  # raw/ has no metadata table
    lines = metadata_first(raw_lines())
    got = parse_source(read_source(write_plan(tmp_path, "\n".join(lines)))).get("plans").to_pylist()[0]
    assert (got["metadata_number"], got["metadata_issued_date"], got["metadata_doc_type"]) == (
        plan["number"], plan["issued_date"], plan["doc_type"])
    assert lines[got["metadata_line"] - 1].startswith("| Số hiệu |")


def test_a_metadata_table_that_disagrees_with_the_header_is_an_audit_finding(tmp_path):
    lines = metadata_first(raw_lines())
    k = next(i for i, line in enumerate(lines) if line.startswith("| Ngày ban hành |"))
    lines[k] = "| Ngày ban hành | 21/12/2023 |"
    tables = run_audit(parse_source(read_source(write_plan(tmp_path, "\n".join(lines))))).tables
    found = [f for f in tables["findings"].to_pylist() if f["rule_id"] == "plan_metadata_mismatch"]
    assert [(f["resource"], f["row_key"], f["severity"]) for f in found] == [
        ("plans", '{"field":"issued_date"}', "warning")]
    assert found[0]["source_line"] == k  # 1-based: the line above, the metadata table's first row, 'Số hiệu'
    assert "“21/12/2023”" in found[0]["message_vi"] and "“20/12/2023”" in found[0]["message_en"]
    plan = tables["plans"].to_pylist()[0]
    assert str(plan["issued_date"]) == "2023-12-20"  # the header's date is kept, the page's beside it
    assert str(plan["metadata_issued_date"]) == "2023-12-21"
