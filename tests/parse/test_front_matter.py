"""Front matter read by structure, and tables in every encoding, on small texts written here."""

from __future__ import annotations

from datetime import date

import pytest

from kehoach.core.errors import KehoachError
from kehoach.parse import front_matter
from kehoach.parse.front_matter import read_front_matter, without_authority
from kehoach.parse.layout import header_from
from kehoach.parse.softwrap import join_soft_wraps
from kehoach.parse.table_reader import read_table


def front(text: str):
    return read_front_matter(tuple(text.split("\n")), 0, "t.txt")


def test_hard_wrapped_header_with_a_leading_zero_number():
    fm = front("ỦY\nBAN NHÂN DÂN\nTỈNH BẮC NINH\n-------\n|\nSố:\n0155/KH-UBND\n|\nBắc Ninh, ngày\n"
               "05 tháng 6 năm 2024\n|\nKẾ HOẠCH\nCHUYỂN ĐỔI SỐ\nNĂM 2024\nI. MỤC TIÊU")
    assert (fm.number, fm.number_line, fm.issued_date, fm.place) == ("0155/KH-UBND", 7, date(2024, 6, 5), "Bắc Ninh")
    assert fm.issuer_printed == "ỦY BAN NHÂN DÂN TỈNH BẮC NINH"
    assert (fm.doc_type, fm.title_printed, fm.body_start) == ("Kế hoạch", "CHUYỂN ĐỔI SỐ NĂM 2024", 14)
    assert fm.problems == []
    header = header_from(fm, "t.txt")
    assert (header.province, header.issuer, header.plan_year) == ("Bắc Ninh", "Ủy ban nhân dân tỉnh Bắc Ninh", 2024)


def test_inline_metadata_lines_fill_a_missing_type_and_a_disagreement_is_a_problem():
    fm = front("Số hiệu: 12/KH-UBND Loại văn bản: Kế hoạch Ngày ban hành: 03/02/2024\n"
               "ỦY BAN NHÂN DÂN TỈNH BÌNH ĐỊNH\nSố: 21/KH-UBND\nBình Định, ngày 3 tháng 2 năm 2024\n"
               "CHUYỂN ĐỔI SỐ TỈNH BÌNH ĐỊNH NĂM 2024\nCăn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm "
               "2015 và các văn bản hướng dẫn thi hành có liên quan;")
    assert fm.metadata["number"] == ("12/KH-UBND", 1)
    assert fm.number == "21/KH-UBND" and fm.doc_type == "Kế hoạch"
    messages = [(p.line, p.message) for p in fm.problems]
    assert (1, "metadata number '12/KH-UBND' differs from the header's '21/KH-UBND' (line 3)") in messages
    assert (5, "no document-type line after the header; 'Kế hoạch' taken from the metadata table") in messages


def test_the_type_comes_from_the_number_when_nothing_else_states_it():
    fm = front("ỦY BAN NHÂN DÂN TỈNH BÌNH ĐỊNH\nSố: 7/QĐ-UBND\nBình Định, ngày 3 tháng 2 năm 2024\n"
               "VỀ VIỆC BAN HÀNH KẾ HOẠCH CHUYỂN ĐỔI SỐ NĂM 2024\nĐiều 1. Ban hành kèm theo Quyết định này.")
    assert (fm.doc_type, fm.doc_type_line) == ("Quyết định", 2)
    assert fm.problems[0].message == (
        "no document-type line after the header; 'Quyết định' taken from the type code of 7/QĐ-UBND")


def test_a_page_title_in_capitals_above_the_header_is_not_the_issuer():
    fm = front("THƯ VIỆN PHÁP LUẬT\nKẾ HOẠCH 281/KH-UBND NĂM 2022 VỀ CHUYỂN ĐỔI SỐ\n\nỦY BAN NHÂN DÂN\nTỈNH THANH HÓA\n"
               "-------\nSố: 281/KH-UBND\nThanh Hóa, ngày 10 tháng 12 năm 2022\nKẾ HOẠCH\nCHUYỂN ĐỔI SỐ NĂM 2023\n"
               "Phần I")
    assert fm.issuer_printed == "ỦY BAN NHÂN DÂN TỈNH THANH HÓA"
    assert (fm.doc_type, fm.title_printed) == ("Kế hoạch", "CHUYỂN ĐỔI SỐ NĂM 2023")


@pytest.mark.parametrize("text", [
    "Quảng Ngãi, ngày 20 tháng 12 năm 2023",
    "Số: 219/KH-UBND | Quảng Ngãi , NGÀY 20 THÁNG 12 NĂM 2023 |",
    "Số: 12/KH-UBND Hà Nội,ngày 5 tháng 6 năm 2024",
    "a, b, c\nBắc Ninh, ngày 05 tháng 6 năm 2024, d",
    "Thực hiện Quyết định số 12/QĐ-UBND ngày 5/6/2023, của Ủy ban, " * 20,
    "x | , ngày 1 tháng 1 năm 2020",
    "Huế, ngày 1 tháng 1 năm 20",
])
def test_the_place_and_date_are_found_as_by_the_whole_pattern(text):
    """``_place_date`` looks for the date first (the place's lazy run costs a millisecond on a
    paragraph): what it finds, from any start, is what the whole pattern alone finds."""
    for start in range(len(text) + 1):
        got, expected = front_matter._place_date(text, start), front_matter._PLACE_DATE.search(text, start)
        assert (got and (got.span(), got.groups())) == (expected and (expected.span(), expected.groups()))


def test_a_header_without_a_date_is_a_located_error():
    fm = front("ỦY BAN NHÂN DÂN\nSố: 7/KH-UBND\nKẾ HOẠCH\nCHUYỂN ĐỔI SỐ")
    with pytest.raises(KehoachError, match=r"^t.txt:2: no issue date"):
        header_from(fm, "t.txt")


def test_soft_wraps_are_joined_but_headings_bullets_and_sentences_are_not():
    lines = ("I. KẾT QUẢ", "ĐẠT ĐƯỢC", "1. Về nhận", "thức số", "Đã ban hành Quyết định số 685/QĐ-UBND ngày",
             "21/3/2022 chọn ngày", "Quảng Ngãi làm ngày chuyển đổi số.", "- Một gạch đầu dòng", "a) Một mục",
             "2. Mục sau")
    assert join_soft_wraps(lines, 0, len(lines)) == (
        "I. KẾT QUẢ ĐẠT ĐƯỢC", "", "1. Về nhận thức số", "",
        "Đã ban hành Quyết định số 685/QĐ-UBND ngày 21/3/2022 chọn ngày Quảng Ngãi làm ngày chuyển đổi số.", "", "",
        "- Một gạch đầu dòng", "a) Một mục", "2. Mục sau")


MARKDOWN = """\
| STT | Nội dung nhiệm vụ | Cơ quan | | Thời hạn hoàn thành |
| --- | --- | --- | --- | --- |
| Chủ trì | Phối hợp |
| **I.** | Thể chế số |
| 1. | Ban hành quy chế [Link: https://example.org/a] dữ liệu | Sở Tư pháp | x | 30/6/2024 |
| 2. | Xây dựng nền tảng
dùng chung của tỉnh | Sở TT&TT |
| 3. | Rà soát | Sở Nội vụ |  | Thường xuyên |  |  |"""


def test_a_markdown_table_with_a_flattened_header_ragged_rows_wraps_and_page_leftovers():
    table = read_table(tuple(MARKDOWN.split("\n")), 0, "t.txt")
    assert [c.role for c in table.columns] == ["code", "name", "lead_agencies", "partner_agencies", "deadline"]
    assert table.columns[2].labels == ("Cơ quan", "Chủ trì")
    assert [[c.text for c in r.cells] for r in table.rows] == [
        ["I.", "Thể chế số", "", "", ""],
        ["1.", "Ban hành quy chế dữ liệu", "Sở Tư pháp", "x", "30/6/2024"],
        ["2.", "Xây dựng nền tảng dùng chung của tỉnh", "Sở TT&TT", "", ""],
        ["3.", "Rà soát", "Sở Nội vụ", "", "Thường xuyên"],
    ]
    assert table.continued == (7,)
    assert [r.line for r in table.rows] == [4, 5, 6, 8]


def test_a_wrapped_cell_in_the_sites_encoding_continues_on_the_next_line():
    text = ("TT | Tên nhiệm vụ | Cơ quan chủ trì | Thời hạn hoàn thành |\n1.1 | Xây dựng kế hoạch\n"
            "tuyên truyền | Sở TT&TT | 30/3/2024 |\n1.2 | Ban hành quy chế | Sở Nội vụ, Sở Tư\npháp |\n2024 |")
    table = read_table(tuple(text.split("\n")), 0, "t.txt")
    assert [[c.text for c in r.cells] for r in table.rows] == [
        ["1.1", "Xây dựng kế hoạch tuyên truyền", "Sở TT&TT", "30/3/2024"],
        ["1.2", "Ban hành quy chế", "Sở Nội vụ, Sở Tư pháp", "2024"],
    ]
    assert table.continued == (3, 5)


def test_the_authority_line_after_a_decisions_title_is_not_part_of_it():
    issuer = "ỦY BAN NHÂN DÂN TỈNH TÂY NINH"
    title = "VỀ VIỆC PHÊ DUYỆT KẾ HOẠCH SỬ DỤNG ĐẤT NĂM 2022"
    assert without_authority(f"{title} CHỦ TỊCH {issuer}", issuer) == title
    assert without_authority(f"{title} {issuer}", issuer) == title
    assert without_authority(f"{title} Bộ trưởng Bộ Y tế", "BỘ Y TẾ") == title
    assert without_authority(title, issuer) == title  # nothing to remove
