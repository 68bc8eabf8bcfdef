"""What the input fingerprint sees: a refresh decides on the bytes of the texts
and their origin records, and decodes a text only when it has to rebuild.

The build runs as ``run_build`` (validation left to the flow tests); the
parse step, which decodes the texts it parses, is the real one, wrapped to
record the texts it was given.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from helpers import PLAN_FILE, copy_package, plan_text, write_plan

from flows import cli
from kehoach import build
from kehoach.core.errors import KehoachError
from kehoach.publish.targets import stale_settings_warning
from kehoach.read.sources import origin_path

ROW = "1.2 | Hội nghị, hội thảo, tập huấn về Chuyển đổi số; Ngày Chuyển đổi số | - | - | 360 | - |"


class Decoded:
    """The real parse step (it decodes each text it parses), recording the paths of the texts it was given."""

    def __init__(self):
        self.paths: list[str] = []

    def __call__(self, sources, cache=None):
        self.paths += [s.path for s in sources]
        return build.parse_sources(sources, cache)


def _run(plan, out, source_urls=None):
    decoded = Decoded()
    result = build.run_build([plan], out, steps=build.Steps(validate=lambda *args: None, parse=decoded),
                             source_urls=source_urls)
    return result, decoded.paths


def _files(out) -> dict[str, tuple[int, int]]:
    """Every file of the output with its modification time and size: a write changes one."""
    return {str(p.relative_to(out)): (p.stat().st_mtime_ns, p.stat().st_size) for p in out.rglob("*") if p.is_file()}


def _descriptor(out) -> dict:
    return json.loads((out / "datapackage.json").read_text(encoding="utf-8"))


def _plan_with_origin(folder):
    plan = write_plan(folder, plan_text(), PLAN_FILE.name)
    shutil.copyfile(origin_path(PLAN_FILE), origin_path(plan))
    return plan


@pytest.fixture(scope="module")
def first_build(tmp_path_factory):
    """Version 1.0.0 of the real plan with its origin record, built once for the module."""
    folder = tmp_path_factory.mktemp("first")
    plan = _plan_with_origin(folder)
    result, decoded = _run(plan, folder / "output")
    assert (result.changed, result.version, decoded) == (True, "1.0.0", [str(plan)])
    return folder / "output"


@pytest.fixture()
def built(first_build, tmp_path):
    """Version 1.0.0 of the real plan, with its origin record, in tmp_path/output: a copy of the
    module's build (the state records no path, so the copy is what a build in tmp_path writes)."""
    return _plan_with_origin(tmp_path), copy_package(first_build, tmp_path / "output")


def test_a_touched_but_unchanged_text_is_not_decoded_and_nothing_is_written(built):
    plan, out = built
    later = plan.stat().st_mtime_ns + 3_600 * 10**9
    os.utime(plan, ns=(later, later))
    os.utime(origin_path(plan), ns=(later, later))
    before = _files(out)
    result, decoded = _run(plan, out)
    assert (result.changed, result.version, decoded) == (False, "1.0.0", [])
    assert _files(out) == before


def test_one_changed_byte_is_decoded_and_makes_a_version(built):
    plan, out = built
    text = plan.read_text(encoding="utf-8")
    assert text.count(ROW) == 1
    plan.write_text(text.replace(ROW, ROW.replace("| 360 |", "| 365 |")), encoding="utf-8")
    result, decoded = _run(plan, out)
    assert (result.changed, result.version, decoded) == (True, "1.1.0", [str(plan)])
    assert _descriptor(out)["previous_version"] == "1.0.0"


def test_an_edited_origin_record_makes_a_metadata_version(built):
    plan, out = built
    origin = json.loads(origin_path(plan).read_text(encoding="utf-8"))
    origin["title_en"] = "Quang Ngai digital transformation plan, 2024"
    origin_path(plan).write_text(json.dumps(origin, ensure_ascii=False), encoding="utf-8")
    result, decoded = _run(plan, out)
    assert (result.changed, result.version, decoded) == (True, "1.0.1", [str(plan)])
    desc = _descriptor(out)
    assert desc["sources"][0]["title_en"] == "Quang Ngai digital transformation plan, 2024"
    assert desc["title_en"].startswith("Quang Ngai digital transformation plan, 2024 (219/KH-UBND")
    shipped = out / "source" / origin_path(plan).name
    assert json.loads(shipped.read_text(encoding="utf-8"))["title_en"] == origin["title_en"]


def test_a_removed_origin_record_is_a_changed_input(built):
    plan, out = built
    origin_path(plan).unlink()
    check = build.check_inputs(build.read_sources([plan]), out)
    assert not check.unchanged and check.version == "1.0.0"


@pytest.mark.prefect  # the CLI's build starts its temporary Prefect server at once, as the text is read
def test_a_text_changed_into_one_that_does_not_decode_is_located_before_any_write(built, capsys):
    plan, out = built
    before = _files(out)
    # the first "ơ" saved as Windows-1258 does, as an editor might
    plan.write_bytes(plan.read_bytes().replace("ơ".encode(), "ơ".encode("cp1258"), 1))
    line = next(i for i, x in enumerate(plan_text().split("\n"), 1) if "ơ" in x)
    with pytest.raises(KehoachError) as err:
        _run(plan, out)
    assert (err.value.path, err.value.line) == (str(plan), line)
    assert str(err.value).startswith(f"{plan}:{line}: not valid UTF-8 text")
    # the CLI says so before it starts Prefect: one line, exit status 2
    assert cli.main(["build", str(plan), "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith(f"{plan}:{line}: not valid UTF-8 text")
    assert _files(out) == before


def test_a_lowered_line_limit_applies_to_a_changed_text_only(built, monkeypatch):
    # Limits judge what is decoded: an unchanged text was decoded (and passed)
    # by the build that made the package in place.
    plan, out = built
    longest = max(len(x) for x in plan_text().split("\n"))
    monkeypatch.setenv("KEHOACH_MAX_LINE_CHARS", str(longest - 1))
    build.preflight([plan], out)
    assert _run(plan, out)[0].changed is False
    plan.write_text(plan_text() + "\n", encoding="utf-8")
    with pytest.raises(KehoachError, match="KEHOACH_MAX_LINE_CHARS"):
        build.preflight([plan], out)


def test_a_changed_setting_rebuilds_every_file_that_carries_it_and_the_changelog_names_it(built, monkeypatch):
    plan, out = built
    old = _descriptor(out)["id"]
    new_portal = "https://data.example.gov.vn/kehoach/"
    monkeypatch.setenv("KEHOACH_PORTAL_URL", new_portal)
    result, _ = _run(plan, out)
    assert (result.changed, result.version) == (True, "1.0.1")
    desc = _descriptor(out)
    assert desc["id"] == desc["homepage"] == f"{new_portal}{desc['name']}/" != old
    for name in ("CITATION.cff", "README.md", "index.html"):
        text = (out / name).read_text(encoding="utf-8")
        assert desc["id"] in text and old not in text, name
    assert "KEHOACH_PORTAL_URL" in desc["change_summary"] and "KEHOACH_PORTAL_URL" in desc["change_summary_vi"]
    assert build.versioning.read_state(out)["history"][-1]["settings_changed"] == ["KEHOACH_PORTAL_URL"]
    # the same settings again: nothing to do
    assert _run(plan, out)[0].changed is False
    monkeypatch.setenv("KEHOACH_PUBLISHER_EMAIL", "opendata@example.gov.vn")
    result, _ = _run(plan, out)
    assert (result.changed, result.version) == (True, "1.0.2")
    assert "KEHOACH_PUBLISHER_EMAIL" in _descriptor(out)["change_summary"]


def test_an_address_given_to_the_build_is_the_source_s_and_a_new_one_rebuilds_saying_so(built):
    plan, out = built
    recorded = json.loads(origin_path(plan).read_text(encoding="utf-8"))["url"]
    # the address the origin record has: nothing to do
    assert _run(plan, out, {"": recorded})[0].changed is False
    page = "https://vanban.quangngai.gov.vn/van-ban/219-kh-ubnd-2023"
    result, _ = _run(plan, out, {plan.name: page})  # FILE=URL, the file by its name
    assert (result.changed, result.version) == (True, "1.0.1")  # metadata only: a patch
    source = _descriptor(out)["sources"][0]
    assert source["url"] == page and recorded in source["url_note"]
    shipped = json.loads((out / "source" / origin_path(plan).name).read_text(encoding="utf-8"))
    assert shipped["url"] == page and shipped["number"] == "219/KH-UBND"  # the record, with the address given
    assert json.loads(origin_path(plan).read_text(encoding="utf-8"))["url"] == recorded  # raw/ untouched
    for name in ("README.md", "index.html", "CITATION.cff"):
        text = (out / name).read_text(encoding="utf-8")
        assert page in text and recorded not in text, name
    desc = _descriptor(out)
    assert f"Source address changed: {plan.name} → {page}." in desc["change_summary"]
    assert f"Địa chỉ nguồn đã đổi: {plan.name} → {page}." in desc["change_summary_vi"]
    assert build.versioning.read_state(out)["history"][-1]["addresses_changed"] == [f"{plan.name} → {page}"]
    assert _run(plan, out, {str(plan): page})[0].changed is False  # the same address, by its path
    result, _ = _run(plan, out)  # none given: the record's again
    assert (result.changed, result.version) == (True, "1.0.2")
    assert f"Source address changed: {plan.name} → {recorded}." in _descriptor(out)["change_summary"]


def test_an_address_goes_to_one_text_or_is_refused_in_one_line(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    first, second = (write_plan(tmp_path / folder, plan_text(), PLAN_FILE.name) for folder in ("a", "b"))
    page = "https://example.gov.vn/219"
    assert [s.origin["url"] for s in build.read_sources([first], {"": page})] == [page]
    cases = {
        "": "--source-url: https://example.gov.vn/219 alone is ambiguous: this build reads 2 texts; "
            "say which one with --source-url FILE=URL",
        PLAN_FILE.name: f"{PLAN_FILE.name}: --source-url names 2 texts of this build ({first}, {second}): "
                        "give its path",
        "other.txt": "other.txt: --source-url names a file this build does not read",
    }
    for key, error in cases.items():
        with pytest.raises(KehoachError) as err:
            build.read_sources([first, second], {key: page})
        assert str(err.value) == error
    found = build.read_sources([first, second], {str(second): page})
    assert [s.origin.get("url") for s in found] == [None, page]


@pytest.mark.parametrize("value", ["www.quangngai.gov.vn/219", "ftp://example.gov.vn/219", "https:///219",
                                   "https://example.gov.vn/219 KH", "plan.txt=javascript:alert(1)", "=https://a.vn",
                                   "https://[::1/219"])
def test_a_malformed_address_is_one_line_exit_2_before_prefect_starts(tmp_path, capsys, value):
    plan = write_plan(tmp_path, plan_text(), PLAN_FILE.name)
    assert cli.main(["build", str(plan), "--out", str(tmp_path / "out"), "--source-url", value]) == 2
    err = capsys.readouterr().err
    assert err.startswith("--source-url: ") and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


def test_publishing_a_package_built_with_other_settings_says_so(built, monkeypatch):
    _plan, out = built
    assert stale_settings_warning(out) is None
    monkeypatch.setenv("KEHOACH_CONTACT_EMAIL", "hoidap@example.gov.vn")
    assert stale_settings_warning(out) == (
        f"warning: {out} was built with other values of KEHOACH_CONTACT_EMAIL: its id, citation and landing page "
        "say the old ones; run 'kehoach refresh' to rebuild it with the settings now in force")
