"""Plans across time (issue 25): a series made from the plan in raw/ (tests/series.py): next
year's plan (tasks dropped, added, reworded, deadlines a year later, citing its predecessor),
then the plan after the 2025 reorganisation (Sở TT&TT is Sở KH&CN, Sở KH&ĐT Sở Tài chính,
cấp huyện cấp xã), and a 2026 plan still naming Sở TT&TT."""

import re
from collections import Counter
from datetime import date
from html import escape
from pathlib import Path

import duckdb
import pytest
from helpers import PLAN_FILE, one, rows
from series import next_year, precision_recall, series

from kehoach.audit.runner import run_audit
from kehoach.core.places import province_on, units_of
from kehoach.core.vocabularies import vocabulary
from kehoach.datasets import split_by_plan
from kehoach.package.database import write_database
from kehoach.package.landing_series import over_time
from kehoach.parse.agencies import registry_for
from kehoach.parse.corpus import parse_sources
from kehoach.parse.inspection import inspect_file
from kehoach.parse.layout import plan_period
from kehoach.parse.lineage import THRESHOLD
from kehoach.parse.series import predecessors
from kehoach.parse.values import parse_deadline
from kehoach.publish.dcat import spatial
from kehoach.publish.metadata import DatasetMeta
from kehoach.read.sources import read_source

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
REAL_2026 = REAL / "excerpt-quangngai-121-kh-ubnd-2025-cds-2026.txt"
FIRST, SECOND, THIRD, STALE = (f"quang-ngai-{n}" for n in ("219-kh-ubnd-2023", "205-kh-ubnd-2024",
                                                           "206-kh-ubnd-2025", "207-kh-ubnd-2025"))


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    directory = tmp_path_factory.mktemp("series")
    made = series(PLAN_FILE.read_text(encoding="utf-8"))
    stale, _ = next_year(made[1][0], 207, edit=False)  # 2026, still naming the departments of 2024
    # ... and, in its first task naming the districts, a district: the district level ended on 30/06/2025
    lines = stale.split("\n")
    at = next(i for i, line in enumerate(lines) if re.match(r"\d+\.\d+ \|", line) and "UBND cấp huyện" in line)
    lines[at] = lines[at].replace("UBND cấp huyện", "UBND huyện Bình Sơn")
    stale = "\n".join(lines)
    paths = []
    for i, text in enumerate([*(t for t, _ in made), stale]):
        path = directory / f"plan-{i}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    tables = run_audit(parse_sources([read_source(p) for p in paths])).tables
    return tables, [truth for _, truth in made]


def test_each_plan_is_linked_to_the_plan_it_cites_as_its_predecessor(made):
    tables, _ = made
    plans = {p["plan_id"]: p for p in tables["plans"].to_pylist()}
    assert {p: (plans[p]["previous_plan_number"], plans[p]["previous_plan_id"]) for p in plans} == {
        FIRST: ("189/KH-UBND", None),  # cited, not in the package
        SECOND: ("219/KH-UBND", FIRST),
        THIRD: ("205/KH-UBND", SECOND),
        STALE: ("205/KH-UBND", SECOND),
    }
    assert [plans[p]["plan_year"] for p in (FIRST, SECOND, THIRD)] == [2024, 2025, 2026]


def test_every_continued_task_is_linked_to_the_task_it_continues_and_no_other(made):
    tables, truths = made
    for plan_id, truth in ((SECOND, truths[1]), (THIRD, truths[2])):
        lineage = rows(tables, "task_lineage", plan_id=plan_id)
        precision, recall = precision_recall(lineage, truth)
        print(f"{plan_id}: precision {precision:.3f}, recall {recall:.3f}")  # shown with -s
        assert (precision, recall) == (1.0, 1.0)
        assert {r["previous_task_code"] for r in lineage if r["change"] == "dropped"} == truth.dropped
        assert {r["task_code"] for r in lineage if r["change"] == "new"} == truth.new
        assert all(r["previous_task_code"] is None and r["match_score"] is None
                   for r in lineage if r["change"] == "new")
        linked = [r for r in lineage if r["task_code"] and r["previous_task_code"]]
        assert len({r["previous_task_code"] for r in linked}) == len(linked)  # one to one
        assert min(r["match_score"] for r in linked) >= THRESHOLD
    second = rows(tables, "task_lineage", plan_id=SECOND)
    assert len(truths[1].dropped) >= 3 and len(truths[1].new) == 3 and len(truths[1].reworded) == 5
    assert {r["task_code"] for r in second if r["change"] in ("reworded", "reworded_renumbered")} == truths[1].reworded
    # a group that lost its second task: the later tasks moved up one number
    dropped = sorted(truths[1].dropped)[0]
    group, number = dropped.split(".")
    moved = one(tables, "task_lineage", plan_id=SECOND, task_code=f"{group}.{number}")
    assert (moved["previous_task_code"], moved["change"]) == (f"{group}.{int(number) + 1}", "renumbered")
    assert {r["change"] for r in rows(tables, "task_lineage", plan_id=THIRD)} == {"same"}


def test_deadlines_of_a_continued_task_are_a_year_later(made):
    tables, _ = made
    same = next(r for r in rows(tables, "task_lineage", plan_id=SECOND) if r["change"] == "same")
    before = one(tables, "tasks", plan_id=FIRST, task_code=same["previous_task_code"])
    after = one(tables, "tasks", plan_id=SECOND, task_code=same["task_code"])
    assert before["deadline_date"].replace(year=before["deadline_date"].year + 1) == after["deadline_date"]


def test_the_2024_department_and_the_2026_merged_one_are_linked_through_successions(made):
    tables, _ = made
    first = {m["agency_id"] for m in rows(tables, "task_agencies", plan_id=FIRST)}
    third = {m["agency_id"] for m in rows(tables, "task_agencies", plan_id=THIRD)}
    assert "quang-ngai.so-tttt" in first and "quang-ngai.so-tttt" not in third
    assert "quang-ngai.so-khcn" in third and "quang-ngai.so-tc" in third
    assert "quang-ngai.ubnd-cap-xa" in third and "quang-ngai.ubnd-cap-huyen" not in {
        m["agency_id"] for m in rows(tables, "task_agencies", plan_id=THIRD)}
    links = {(s["agency_id"], s["successor_agency_id"]) for s in tables["agency_successions"].to_pylist()}
    assert {("quang-ngai.so-tttt", "quang-ngai.so-khcn"), ("quang-ngai.so-khdt", "quang-ngai.so-tc"),
            ("quang-ngai.ubnd-cap-huyen", "quang-ngai.ubnd-cap-xa")} <= links
    # each basis names its act; no article is claimed, none having been read in the act's text (reference/README.md)
    bases = [s["basis"] for s in tables["agency_successions"].to_pylist()]
    assert all(re.match(r"(Nghị định|Nghị quyết|Luật) ", b) and "Điều" not in b for b in bases)
    assert all(b.endswith("(điều khoản chưa đối chiếu với nguyên văn)") for b in bases)


def test_the_ceased_agency_rule_fires_on_a_2026_plan_still_naming_so_tttt(made):
    tables, _ = made
    found = [f for f in rows(tables, "findings", rule_id="agency_ceased")]
    stale = [f for f in found if f["plan_id"] == STALE and "“Sở TT&TT”" in f["message_vi"]]
    assert stale and all("Sở Khoa học và Công nghệ tỉnh Quảng Ngãi" in f["message_vi"] for f in stale)
    assert "its successor: Department of Science and Technology of Quang Ngai" in stale[0]["message_en"]
    assert not [f for f in found if f["plan_id"] in (FIRST, SECOND)]  # issued while it existed
    assert not [f for f in found if f["plan_id"] == THIRD and "Sở TT&TT" in f["message_vi"]]


def test_a_mention_resolves_to_the_agency_of_the_issue_date():
    """The real 2026 plan (its first 2,000 bytes, tests/fixtures/real/) names Sở Khoa học và Công nghệ: on its
    issue date that is the merged department, into which Sở TT&TT went."""
    real = inspect_file(REAL_2026).as_dict()
    issued = date.fromisoformat(real["issued_date"])
    text = REAL_2026.read_text(encoding="utf-8")
    named = text[text.index("Sở Khoa học và Công nghệ tại Tờ trình"):]
    after = registry_for(real["province"], "tỉnh", issued)
    [mention] = after.leading_mentions(named)
    assert mention.agency_id == "quang-ngai.so-khcn" and after.agencies[mention.agency_id].valid_on(issued)
    assert after.resolve("Sở TT&TT") == "quang-ngai.so-tttt"  # named though ceased: the audit says so
    assert not after.agencies["quang-ngai.so-tttt"].valid_on(issued)
    assert province_on(real["province"], issued).covers == ("Quảng Ngãi", "Kon Tum")
    before = registry_for("Quảng Ngãi", "tỉnh", date(2023, 12, 20))
    assert before.agencies["quang-ngai.so-tttt"].valid_on(date(2023, 12, 20))
    assert before.resolve("Sở Nông nghiệp và Môi trường") == "quang-ngai.so-nnmt"
    assert before.agencies["quang-ngai.so-nnmt"].valid_from == date(2025, 3, 1)


def test_the_series_view_follows_each_task_across_years(made, tmp_path):
    """In the corpus's DuckDB file, as the package ships it."""
    tables, truths = made
    write_database(tables, tmp_path / "corpus.duckdb")
    con = duckdb.connect(str(tmp_path / "corpus.duckdb"), read_only=True)
    plans = con.sql("SELECT plan_id, position FROM series_plans ORDER BY position, plan_id").fetchall()
    assert plans == [(FIRST, 1), (SECOND, 2), (THIRD, 3), (STALE, 3)]
    dropped = {r[0] for r in con.sql("SELECT task_code FROM series_tasks WHERE dropped_next").fetchall()}
    assert dropped == truths[1].dropped
    every = con.sql("SELECT count(DISTINCT thread_id) FROM series_tasks WHERE in_every_plan").fetchall()[0][0]
    first_tasks = len(rows(tables, "tasks", plan_id=FIRST))
    assert every == first_tasks - len(truths[1].dropped)
    new = con.sql("SELECT plan_id, task_code FROM series_tasks WHERE change = 'new'").fetchall()
    assert {c for p, c in new if p == SECOND} == truths[1].new and {p for p, _ in new} == {SECOND}


def test_a_month_without_a_year_is_that_month_of_the_plan_year():
    deadline = parse_deadline("Tháng 12", 2026)
    assert (deadline.kind, deadline.date) == ("month_of_plan_year", date(2026, 12, 31))
    assert parse_deadline("Tháng 12").kind == "other"  # no plan year: not understood
    assert parse_deadline("Tháng 6/2025", 2026).date == date(2025, 6, 30)  # a stated year wins
    words, no_month = parse_deadline("Tháng 3 năm 2025", 2026), parse_deadline("Tháng 13", 2026)
    assert (words.kind, words.date) == ("month", date(2025, 3, 31))
    assert (no_month.kind, no_month.date) == ("other", None)  # no month: not understood, not refused


def test_a_plan_over_a_period_has_a_period_not_a_plan_year():
    assert plan_period("CHUYỂN ĐỔI SỐ TỈNH QUẢNG NGÃI NĂM 2024", 2023) == (2024, 2024, 2024)
    assert plan_period("CHUYỂN ĐỔI SỐ ĐẾN NĂM 2025, ĐỊNH HƯỚNG ĐẾN NĂM 2030", 2021) == (2021, 2025, None)
    assert plan_period("PHÁT TRIỂN KINH TẾ SỐ GIAI ĐOẠN 2021-2025", 2021) == (2021, 2025, None)


def test_districts_and_communes_a_plan_names_are_the_units_of_its_issue_date(made):
    """'Đức Phổ' in the 2024 plan is thị xã Đức Phổ (code 534); in the plan issued after 1 July 2025,
    phường Đức Phổ of the new Quảng Ngãi; 'UBND huyện Bình Sơn' in a 2026 plan names a district
    that had ceased, and the audit says so."""
    tables, _ = made
    agencies = {a["agency_id"]: a for a in tables["agencies"].to_pylist()}
    issued = {p["plan_id"]: p["issued_date"] for p in tables["plans"].to_pylist()}
    found = {}
    for plan_id in (FIRST, THIRD):
        [agency_id] = {m["agency_id"] for m in rows(tables, "budget_item_agencies", plan_id=plan_id)
                       if m["mention"] == "Đức Phổ"}
        unit = found[plan_id] = agencies[agency_id]
        assert (unit["valid_from"] or date.min) <= issued[plan_id] <= (unit["valid_to"] or date.max)
    assert [(u["level"], u["admin_code"], u["name_vi"]) for u in found.values()] == [
        ("district", "534", "Ủy ban nhân dân thị xã Đức Phổ"), ("commune", "21439", "Ủy ban nhân dân phường Đức Phổ")]
    [ceased] = [f for f in rows(tables, "findings", rule_id="agency_ceased", plan_id=STALE)
                if "“UBND huyện Bình Sơn”" in f["message_vi"]]
    assert "chấm dứt hoạt động sau ngày 30/06/2025" in ceased["message_vi"]
    assert one(tables, "agencies", agency_id="quang-ngai.huyen-binh-son-524")["admin_code"] == "524"


def test_districts_until_the_district_level_ended_and_communes_after():
    districts, communes = vocabulary("district_units"), vocabulary("commune_units")

    def on(units, day):
        return [u for u in units if u["valid_from"] <= day and (not u["valid_to"] or day <= u["valid_to"])]

    assert max(d["valid_to"] for d in districts) == "2025-06-30" and all(d["valid_to"] for d in districts)
    assert min(c["valid_from"] for c in communes) == "2025-07-01"
    assert len(on(districts, "2025-06-30")) == 696  # the statistics office's list as of 1 March 2025
    assert len(on(communes, "2025-07-01")) == 3321  # Quyết định 19/2025/QĐ-TTg
    before, after = units_of("Quảng Ngãi", date(2023, 12, 20)), units_of("Quảng Ngãi", date(2026, 1, 5))
    assert {(u.level, u.province_code) for u in before} == {("district", "51")}
    # the new Quảng Ngãi: its communes (Nghị quyết 1677/NQ-UBTVQH15), and the districts, ceased, of both provinces
    assert Counter(u.unit for u in after if u.level == "commune") == {"xã": 86, "phường": 9, "đặc khu": 1}
    assert {u.province_code for u in after if u.level == "district"} == {"51", "62"}
    # a district that changed kind is the unit of the day: huyện Việt Yên became thị xã on 1 February 2024
    assert registry_for("Bắc Giang", "tỉnh", date(2023, 6, 1)).resolve("Việt Yên") == "bac-giang.huyen-viet-yen-222"
    assert registry_for("Bắc Giang", "tỉnh", date(2024, 6, 1)).resolve("Việt Yên") == "bac-giang.thi-xa-viet-yen-222"


def test_provinces_by_date():
    units = vocabulary("province_units")
    assert len([u for u in units if u["valid_to"] == "2025-06-30"]) == 63
    assert len([u for u in units if u["valid_from"] == "2025-07-01"]) == 34
    assert len(vocabulary("province_mergers")) == 63  # every old province goes to one new one
    before, after = province_on("Quảng Ngãi", date(2023, 12, 20)), province_on("Quảng Ngãi", date(2026, 1, 5))
    assert (before.code, before.covers) == ("51", ("Quảng Ngãi",))
    assert (after.code, after.covers) == ("51", ("Quảng Ngãi", "Kon Tum"))
    assert province_on("Kon Tum", date(2025, 6, 30)).code == "62"
    assert province_on("Kon Tum", date(2025, 7, 1)) is None
    # Đồng Nai, a city from 30/04/2026 (the statistics office's list of that day), on its territory of 1 July 2025
    province, city = province_on("Đồng Nai", date(2026, 1, 5)), province_on("Đồng Nai", date(2026, 5, 4))
    assert (province.unit, city.unit, city.code) == ("tỉnh", "thành phố", "75")
    assert city.covers == province.covers == ("Bình Phước", "Đồng Nai")
    assert city.territory_from == province.territory_from == date(2025, 7, 1)


def test_a_plans_landing_page_says_what_changed_since_the_plan_it_follows(made):
    tables, truths = made
    page = over_time(split_by_plan(tables)[SECOND])  # the plan's own package, derived from the corpus
    assert "Kế hoạch 205/KH-UBND tiếp nối Kế hoạch 219/KH-UBND" in page
    counted = Counter(r["change"] for r in rows(tables, "task_lineage", plan_id=SECOND))
    assert f"{counted['same']} giữ nguyên; {counted['renumbered']} đổi số thứ tự; 5 diễn đạt lại; 3 mới; " in page
    for code in truths[1].dropped:  # named, though only the previous plan holds them
        assert escape(one(tables, "tasks", plan_id=FIRST, task_code=code)["name"]) in page
    assert ("Tỉnh Quảng Ngãi (mã 51) vào ngày 20/12/2024: địa giới trước ngày 01/07/2025; "
            "13 đơn vị hành chính cấp huyện.") in page  # its districts that day (reference/district_units.csv)
    after = over_time(split_by_plan(tables)[THIRD])
    assert "Tỉnh Quảng Ngãi (mã 51) vào ngày 20/12/2025: địa giới từ ngày 01/07/2025, gồm Quảng Ngãi, Kon Tum" in after


def test_dcat_spatial_coverage_is_the_province_on_the_issue_date():
    meta = DatasetMeta(name="x", title="x", title_vi="x", title_en="x", description_vi="", description_en="",
                       version="1.0.0", created="", licence={}, licence_note_vi="", licence_note_en="", keywords=[],
                       language=[], sources=[], content_sha256="", generator="",
                       plans=[{"province": "Quảng Ngãi", "issued_date": "2023-12-20"},
                              {"province": "Quảng Ngãi", "issued_date": "2025-12-31"},
                              {"province": "Quảng Ngãi", "issued_date": "2026-01-02"}])
    places = [n for n in spatial(meta) if n.get("@type") == "dct:Location" and "skos:scopeNote" in n]
    assert [p["dct:identifier"] for p in places] == ["51", "51"]  # one per territory, not per plan
    notes = [{t["@language"]: t["@value"] for t in p["skos:scopeNote"]} for p in places]
    assert "before 1 July 2025; 13 district-level units." in notes[0]["en"]
    assert notes[1]["vi"].endswith("; 96 đơn vị hành chính cấp xã.")  # Nghị quyết 1677/NQ-UBTVQH15
    assert "made of the former Quảng Ngãi, Kon Tum" in notes[1]["en"] and "gồm Quảng Ngãi, Kon Tum" in notes[1]["vi"]


def test_a_predecessor_is_found_by_issuer_type_family_and_year_never_by_number():
    def plan(plan_id, issuer, title, issued, year, number="1/KH-UBND"):
        return dict(plan_id=plan_id, number=number, issuer=issuer, doc_type="Kế hoạch", title=title,
                    issued_date=issued, period_start=year, period_end=year)

    qn, other = "Ủy ban nhân dân tỉnh Quảng Ngãi", "Ủy ban nhân dân tỉnh Bình Định"
    cds = "Kế hoạch chuyển đổi số tỉnh Quảng Ngãi năm {}"
    found = predecessors([
        plan("a", qn, cds.format(2024), date(2023, 12, 20), 2024),
        plan("a-amended", qn, cds.format(2024), date(2024, 3, 1), 2024),  # the later of two 2024 plans
        plan("b", qn, cds.format(2025), date(2024, 12, 20), 2025, number="1/KH-UBND"),
        plan("c", other, cds.format(2025), date(2024, 12, 20), 2025),  # another issuer
        plan("d", qn, "Kế hoạch phát triển kinh tế số tỉnh Quảng Ngãi năm 2025", date(2024, 12, 20), 2025),
        plan("e", qn, cds.format(2026), date(2024, 1, 5), 2026),  # issued before the 2025 plans
    ])
    assert found == {"b": "a-amended"}
