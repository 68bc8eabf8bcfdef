"""The generic pipe-table reader, on small tables written in the tests."""

import pytest

from kehoach.core.errors import KehoachError
from kehoach.parse.table_reader import line_cells, parse_code, read_table

BUDGET = """\
TT | Nội dung nhiệm vụ | Kinh phí dự kiến | Cơ quan chủ trì | |||
Ngân sách tỉnh | Ngân sách huyện | |||||
CTX | ĐTPT | CTX | ĐTPT | |||
1 | Nhận thức số | 800 | - | 984 | - |
|
1.1 | Truyền thông | 800 |
| 624 |
| Sở TT&TT, Tư Nghĩa |
| Tổng: 1.784 | 800 | - | 984 | - |
|"""


def lines(text):
    return tuple(text.split("\n"))


def test_line_cells_keep_empty_cells_at_line_starts():
    assert line_cells("1.1 | Truyền thông | 800 |") == ["1.1", "Truyền thông", "800"]
    assert line_cells("| 624 |") == ["", "624"]
    assert line_cells("|") == [""]
    assert line_cells("Năm 2024 | Năm 2025 | |||") == ["Năm 2024", "Năm 2025", "", "", ""]


def test_rows_are_read_in_the_rhythm_of_the_header():
    table = read_table(lines(BUDGET), 0, "t.txt")
    assert len(table.columns) == 7
    assert [r.line for r in table.rows] == [4, 6, 9]
    item = table.rows[1]
    assert [c.text for c in item.cells] == ["1.1", "Truyền thông", "800", "", "624", "", "Sở TT&TT, Tư Nghĩa"]
    # Each cell remembers its own line.
    assert [c.line for c in item.cells] == [6, 6, 6, 7, 7, 8, 8]


def test_multi_row_header_becomes_a_column_tree():
    table = read_table(lines(BUDGET), 0, "t.txt")
    amounts = table.columns_with("amount")
    assert [(c.attrs["budget_level"], c.attrs["expenditure_type"]) for c in amounts] == [
        ("province", "recurrent"), ("province", "investment"), ("district", "recurrent"), ("district", "investment"),
    ]
    assert amounts[0].labels == ("Kinh phí dự kiến", "Ngân sách tỉnh", "CTX")
    assert table.column("lead_agencies").index == 6


def test_year_columns_under_a_phasing_header():
    text = "TT | Hạng mục đầu tư | Tổng | Phân kỳ đầu tư | |\nNăm 2026 | Năm 2027 | |||\n1 | A | 3 | 1 | 2 |"
    table = read_table(lines(text), 0, "t.txt")
    assert [c.attrs.get("year") for c in table.columns] == [None, None, None, "2026", "2027"]
    assert table.column("amount_total").index == 2


def test_table_ending_mid_row_is_located():
    broken = "\n".join(BUDGET.split("\n")[:7])  # row 1.1 stops after 5 of 7 cells
    with pytest.raises(KehoachError) as err:
        read_table(lines(broken), 0, "plan.txt")
    assert str(err.value) == "plan.txt:6: table ends mid-row: 5 of 7 cells"


def test_row_not_starting_on_a_new_line_is_refused():
    text = "TT | Tên nhiệm vụ | Cơ quan chủ trì | Thời hạn hoàn thành |\n1.1 | A | B | 30/3/2024 | 1.2 |"
    with pytest.raises(KehoachError, match=r"t.txt:2: row has more than 4 cells"):
        read_table(lines(text), 0, "t.txt")


def test_unknown_header_is_reported_with_its_line():
    text = "TT | Tên nhiệm vụ | Màu sắc |\n1 | A | đỏ |"
    with pytest.raises(KehoachError, match=r"t.txt:1: unknown column header 'Màu sắc'"):
        read_table(lines(text), 0, "t.txt")


@pytest.mark.parametrize(
    ("text", "normalized", "anomaly"),
    [("1.1", "1.1", None), ("9 2", "9.2", "space"), ("1,2", "1.2", "','"), ("1.1.", "1.1", None), ("10", "10", None)],
)
def test_row_numbers(text, normalized, anomaly):
    code = parse_code(text)
    assert code.normalized == normalized
    assert (code.anomaly is None) == (anomaly is None)
    if anomaly:
        assert anomaly in code.anomaly


def test_text_is_not_a_row_number():
    assert parse_code("Thể chế số") is None
    assert parse_code("") is None


def roles(table):
    return [(" > ".join(c.labels), c.role, c.attrs.get("level")) for c in table.columns]


def test_markdown_colspans_written_in_place_with_a_full_width_sub_row():
    text = """\
| STT |  | Tên đề án | Cấp trình |  | Thời gian trình | Đơn vị thực hiện |  |
| --- | --- | --- | --- | --- | --- | --- | --- |
|  | Theo NQ 01 |  | Chính phủ | TTg CP |  | Chủ trì | Phối hợp |
| I | II | Nhóm nhiệm vụ |  |  |  |  |  |
| 1 | 48 | Đề án A |  | x | Tháng 3 | Cục X | - Vụ Y - Vụ Z |"""
    table = read_table(lines(text), 0, "t.txt")
    assert roles(table) == [
        ("STT", "code", None), ("STT > Theo NQ 01", "reference", None), ("Tên đề án", "name", None),
        ("Cấp trình > Chính phủ", "submitted_to", "Chính phủ"), ("Cấp trình > TTg CP", "submitted_to", "TTg CP"),
        ("Thời gian trình", "deadline", None), ("Đơn vị thực hiện > Chủ trì", "lead_agencies", None),
        ("Đơn vị thực hiện > Phối hợp", "partner_agencies", None)]
    assert [r.line for r in table.rows] == [4, 5]


def test_a_short_sub_row_goes_under_the_spanning_label_and_an_empty_cell_continues_its_left():
    # The sub-labels fill the span in order; the span's last column continues 'Phối hợp'.
    text = """\
| TT | Chỉ tiêu | Đơn vị | Chỉ tiêu năm 2024 | Đơn vị chủ trì theo dõi, đánh giá |  |  |
| --- | --- | --- | --- | --- | --- | --- |
| Chủ trì |  | Phối hợp |
| 1 | Tỷ lệ A | % | 100 | Văn phòng Bộ | - Vụ B |  |"""
    table = read_table(lines(text), 0, "t.txt")
    assert [c.role for c in table.columns] == [
        "code", "name", "unit", "target", "lead_agencies", "partner_agencies", "partner_agencies"]
    assert [c.text for c in table.rows[0].cells][4:6] == ["Văn phòng Bộ", "- Vụ B"]


def test_markdown_colspans_padded_at_the_end_are_placed_by_the_vocabulary():
    # The sites' way (raw/), rendered as markdown: which label spans is known from reference/table_headers.csv.
    text = """\
| TT | Nội dung nhiệm vụ | Kinh phí dự kiến | Cơ quan chủ trì |  |  |  |
| --- | --- | --- | --- | --- | --- | --- |
| Ngân sách tỉnh | Ngân sách huyện |
| CTX | ĐTPT | CTX | ĐTPT |
| 1 | Nhận thức số | 800 | - | 984 | - | Sở A |"""
    table = read_table(lines(text), 0, "t.txt")
    assert [c.role for c in table.columns] == ["code", "name", "amount", "amount", "amount", "amount",
                                               "lead_agencies"]
    assert table.columns[4].attrs == {"role": "amount", "budget_level": "district", "expenditure_type": "recurrent"}
