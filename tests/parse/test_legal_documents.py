import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehoach.core.text import slug
from kehoach.parse.legal_documents import (
    Context,
    DocumentRegistry,
    _split_shape,
    make_ref,
    normalize_number,
    parse_related_entry,
    split_number,
)
from kehoach.parse.number_slugs import number_slug

QN = Context("Quảng Ngãi")


@pytest.mark.parametrize(
    ("entry", "doc_id", "doc_type", "number", "year", "issuer"),
    [
        ("Nghị định 85/2016/NĐ-CP về bảo đảm an toàn hệ thống thông tin theo cấp độ",
         "85-2016-nd-cp", "Nghị định", "85/2016/NĐ-CP", 2016, "Chính phủ"),
        ("Chỉ thị 01/CT-TTg năm 2020 về thúc đẩy phát triển doanh nghiệp công nghệ số do Thủ tướng Chính phủ ban hành",
         "01-ct-ttg-2020", "Chỉ thị", "01/CT-TTg", 2020, "Thủ tướng Chính phủ"),
        ("Công văn 1247/BXD-PTĐT năm 2022 hướng dẫn tổ chức thiết lập Hệ thống cơ sở dữ liệu đô thị",
         "1247-bxd-ptdt-2022", "Công văn", "1247/BXD-PTĐT", 2022, "Bộ Xây dựng"),
        ("Quyết định 1557/QĐ-UBND năm 2022 quy định về đảm bảo tỷ lệ chi ngân sách do tỉnh Quảng Ngãi ban hành",
         "quang-ngai-1557-qd-ubnd-2022", "Quyết định", "1557/QĐ-UBND", 2022, "Ủy ban nhân dân tỉnh Quảng Ngãi"),
        ("Luật ngân sách nhà nước 2015", "luat-ngan-sach-nha-nuoc-2015", "Luật", None, 2015, "Quốc hội"),
        ("Quyết định 17/QĐ-UBQGCĐS về Kế hoạch hoạt động của Ủy ban Quốc gia về chuyển đổi số năm 2023",
         "17-qd-ubqgcds", "Quyết định", "17/QĐ-UBQGCĐS", None, "Ủy ban Quốc gia về chuyển đổi số"),
    ],
)
def test_related_entries(entry, doc_id, doc_type, number, year, issuer):
    ref = parse_related_entry(entry, QN)
    assert (ref.doc_id, ref.doc_type, ref.number, ref.year, ref.issuer) == (doc_id, doc_type, number, year, issuer)
    assert ref.title == entry


def test_number_parts():
    assert split_number("85/2016/NĐ-CP") == (2016, "NĐ", "CP")
    assert split_number("6074/BTTTT-CĐSQG") == (None, None, "BTTTT")
    assert split_number("13-NQ/TU") == (None, "NQ", "TU")
    assert split_number("2294/QĐ- BTTTT") == (None, "QĐ", "BTTTT")


def test_spaces_inside_numbers_give_the_same_document():
    assert make_ref("2294/QĐ- BTTTT", QN, year=2023).doc_id == make_ref("2294/QĐ-BTTTT", QN, year=2023).doc_id


def test_year_less_reference_merges_into_its_dated_twin():
    registry = DocumentRegistry()
    undated = registry.add(parse_related_entry("Nghị quyết 01/NQ-CP về nhiệm vụ do Chính phủ ban hành", QN))
    from datetime import date

    dated = registry.add(make_ref("01/NQ-CP", QN, issued=date(2023, 1, 6)))
    assert (undated, dated) == ("01-nq-cp", "01-nq-cp-2023")
    moves = registry.resolve_aliases()
    assert moves == {"01-nq-cp": "01-nq-cp-2023"}
    merged = registry.docs["01-nq-cp-2023"]
    assert merged.title.startswith("Nghị quyết 01/NQ-CP") and merged.issued_date == date(2023, 1, 6)


# Numbers of any shape: digits (ASCII and others), codes, separators, spaces, letters to fold.
_NUMBER_TEXT = st.text(st.sampled_from(list("0123456789٣/-. \t\x1c_aQzTĐđé\u0301")), max_size=40) | st.text(
    st.sampled_from(list("09/-Đ a")), min_size=90, max_size=130)


@settings(max_examples=500, deadline=None)
@given(_NUMBER_TEXT)
def test_a_numbers_id_part_is_its_slug(number):
    """The fast id of a number (no fold, the codes' slug shared) is the slug of the number."""
    assert number_slug(number) == slug(number)


@settings(max_examples=500, deadline=None)
@given(_NUMBER_TEXT)
def test_a_number_is_split_as_the_number_with_one_digit(number):
    """A number is split from the cached split of its codes: the same as splitting it whole."""
    def outcome(split, n):
        try:
            return split(n)
        except ValueError as exc:  # '1-2': the party form without its '/': refused the same way
            return type(exc)
    assert outcome(split_number, number) == outcome(lambda n: _split_shape.__wrapped__(normalize_number(n)), number)
