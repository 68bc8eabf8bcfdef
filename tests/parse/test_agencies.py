from datetime import date

import pytest

from kehoach.parse.agencies import AgencyRegistry, registry_for


@pytest.fixture(scope="module")
def qn():
    return AgencyRegistry("Quảng Ngãi")


def pairs(registry, cell):
    return [(m.text, m.agency_id) for m in registry.mentions(cell)]


def test_names_containing_commas_are_not_split(qn):
    assert pairs(qn, "Các Sở, ban, ngành tỉnh; UBND cấp huyện;") == [
        ("Các Sở, ban, ngành tỉnh", "quang-ngai.so-ban-nganh"),
        ("UBND cấp huyện", "quang-ngai.ubnd-cap-huyen"),
    ]


def test_run_on_names_are_split(qn):
    assert pairs(qn, "Sở TT&TT UBND cấp huyện") == [
        ("Sở TT&TT", "quang-ngai.so-tttt"), ("UBND cấp huyện", "quang-ngai.ubnd-cap-huyen")]


@pytest.mark.parametrize(
    ("variant", "agency"),
    [
        ("TN và MT", "so-tnmt"), ("Sở TN&MT", "so-tnmt"), ("VH-TT&DL", "so-vhttdl"), ("VH-TTDL", "so-vhttdl"),
        ("Sở VH-TT và DL", "so-vhttdl"), ("LĐ-TB&XH", "so-ldtbxh"), ("LĐ- TB&XH", "so-ldtbxh"),
        ("LĐTBXH", "so-ldtbxh"), ("NN&PTNT", "so-nnptnt"), ("Sở NN &PTNT", "so-nnptnt"),
        ("Sở Tư pháp tỉnh Quảng Ngãi", "so-tp"), ("C.Thương", "so-ct"), ("thị xã Đức Phổ", "thi-xa-duc-pho-534"),
    ],
)
def test_abbreviation_variants_resolve_to_one_agency(qn, variant, agency):
    assert qn.resolve(variant) == f"quang-ngai.{agency}"


def test_the_communes_named_together_as_the_plans_after_1_july_2025_name_them():
    after = registry_for("Quảng Ngãi", "tỉnh", date(2026, 1, 5))
    assert pairs(after, "Các sở, ban, ngành; UBND các xã, phường, đặc khu") == [
        ("Các sở, ban, ngành", "quang-ngai.so-ban-nganh"), ("UBND các xã, phường, đặc khu", "quang-ngai.ubnd-cap-xa")]


def test_elliptic_levels_after_a_collective(qn):
    found = [a for _, a in pairs(qn, "UBND cấp huyện, cấp xã")]
    assert found == ["quang-ngai.ubnd-cap-huyen", "quang-ngai.ubnd-cap-xa"]
    assert [a for _, a in pairs(qn, "UBND huyện, xã")] == [None, "quang-ngai.ubnd-cap-xa"]


def test_qualified_names_and_unknown_names(qn):
    assert pairs(qn, "Các đơn vị được giao tại Công văn số 4824/UBND- KGVX") == [
        ("Các đơn vị được giao tại Công văn số 4824/UBND- KGVX", "quang-ngai.don-vi-duoc-giao")]
    assert pairs(qn, "Hội Nông dân tỉnh, Sở Y tế") == [("Hội Nông dân tỉnh", None), ("Sở Y tế", "quang-ngai.so-yt")]
    assert pairs(qn, "") == []


def test_district_codes_and_templates():
    registry = AgencyRegistry("Quảng Ngãi")
    assert registry.agencies["quang-ngai.huyen-ly-son-536"].admin_code == "536"
    # a district's committee is made from the official code list: its name, English name, aliases and dates
    town = registry.agencies["quang-ngai.thi-xa-duc-pho-534"]
    assert (town.name_vi, town.name_en, town.level) == (
        "Ủy ban nhân dân thị xã Đức Phổ", "Duc Pho Town People's Committee", "district")
    assert {"TX Đức Phổ", "UBND thị xã Đức Phổ", "Đức Phổ"} <= set(town.aliases) and town.valid_to == date(2025, 6, 30)
    name = registry.agencies["quang-ngai.so-tttt"].name_en
    assert name == "Department of Information and Communications of Quang Ngai"
    other = AgencyRegistry("Bình Định")
    assert "binh-dinh.so-tttt" in other.agencies and "binh-dinh.huyen-ly-son-536" not in other.agencies
