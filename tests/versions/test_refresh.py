"""Versions of the package in place: the build steps as plain functions (no Prefect).

The full refresh (served deployment, event, unchanged run) is in
test_refresh_server.py; here each decision is checked on its own.
"""

from __future__ import annotations

import html
import json
import threading

import pytest
from helpers import copy_package, plan_text, write_plan

from flows import cli
from kehoach import build
from kehoach.core.errors import KehoachError
from kehoach.core.files import exclusive_lock
from kehoach.parse.plan import parse_source
from kehoach.read.sources import read_source
from kehoach.versions import versioning
from kehoach.versions.comparison import current_schemas

# The build as the flow runs it, validation left to the flow tests (it is the slow step).
UNVALIDATED = build.Steps(validate=lambda *args: None)


def _build(path, out):
    """Build ``out`` from ``path``; the new descriptor, or None when no version was made."""
    result = build.run_build([path], out, steps=UNVALIDATED)
    return _descriptor(out) if result.changed else None


def _as_after_a_code_change(out):
    """Forget the recorded input fingerprint, as a new version of the code would, so the next build runs."""
    state = versioning.read_state(out)
    versioning.write_state(out, {k: v for k, v in state.items() if k != "input_fingerprint"})


def _descriptor(out):
    return json.loads((out / "datapackage.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def first_build(tmp_path_factory):
    """Version 1.0.0 of the real plan, built once for the module (tests get a copy)."""
    folder = tmp_path_factory.mktemp("first")
    plan = write_plan(folder, plan_text(), "qni-219-KH-UBND-2023.txt")
    desc = _build(plan, folder / "output")
    assert desc["version"] == "1.0.0" and "previous_version" not in desc
    return folder / "output"


@pytest.fixture()
def first(first_build, tmp_path):
    """Version 1.0.0 of the real plan in tmp_path/output: a copy of the module's build (the state
    records no path, so the copy is what a build in tmp_path writes)."""
    plan = write_plan(tmp_path, plan_text(), "qni-219-KH-UBND-2023.txt")
    return plan, copy_package(first_build, tmp_path / "output")


def test_unchanged_inputs_are_detected_from_the_state(first):
    plan, out = first
    check = build.check_inputs([read_source(plan)], out)
    assert check.unchanged and check.version == "1.0.0"
    plan.write_text(plan.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert not build.check_inputs([read_source(plan)], out).unchanged


def test_changed_inputs_with_identical_package_make_no_version(first):
    plan, out = first
    # as after a code change that does not touch the data: the fingerprint differs
    state_file = out / ".kehoach" / "state.json"
    state = json.loads(state_file.read_text(encoding="utf-8"))
    state_file.write_text(json.dumps({**state, "input_fingerprint": "0" * 64}), encoding="utf-8")
    before = (out / "datapackage.json").read_bytes()
    assert not build.check_inputs([read_source(plan)], out).unchanged
    assert _build(plan, out) is None
    assert (out / "datapackage.json").read_bytes() == before
    assert not (out / "versions").exists()
    assert [p.name for p in out.parent.glob(".output.*")] == []


def test_new_source_bytes_with_the_same_data_are_a_patch(first):
    plan, out = first
    # a trailing blank line: the tables are the same, the source's recorded hash is not
    plan.write_text(plan.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    new = _build(plan, out)
    assert (new["version"], new["previous_version"]) == ("1.0.1", "1.0.0")
    assert new["sources"][0]["hash"] == f"sha256:{read_source(plan).sha256}"
    assert _changes(out) == []


def test_a_data_change_is_a_minor_version_with_its_changelog(first):
    plan, out = first
    text = plan.read_text(encoding="utf-8")
    row = "1.2 | Hội nghị, hội thảo, tập huấn về Chuyển đổi số; Ngày Chuyển đổi số | - | - | 360 | - |"
    assert text.count(row) == 1
    plan.write_text(text.replace(row, row.replace("| 360 |", "| 365 |")), encoding="utf-8")
    desc = _build(plan, out)
    assert (desc["version"], desc["previous_version"]) == ("1.1.0", "1.0.0")
    changes = [c for c in _changes(out) if c["derived"] == "false"]
    assert [(c["resource"], c["field"], c["old_value"], c["new_value"]) for c in changes] == [
        ("budget_lines", "amount_million_vnd", "360", "365"), ("budget_lines", "amount_text", "360", "365")]
    assert json.loads(changes[0]["row_key"])["item_code"] == "1.2"
    assert desc["change_summary"].startswith("Version 1.1.0 (replaces 1.0.0): budget_lines: 1 changed")
    assert desc["change_summary_vi"].startswith("Phiên bản 1.1.0 (thay cho 1.0.0): budget_lines: 1 sửa")
    assert desc["change_summary_vi"] in desc["description_vi"]
    # the previous version is kept whole, and still says what it was
    kept = out / "versions" / "1.0.0"
    assert _descriptor(kept)["version"] == "1.0.0"
    assert "360" in (kept / "data" / "budget_lines.csv").read_text(encoding="utf-8")
    assert not (kept / ".kehoach").exists() and not (kept / "versions").exists()
    state = json.loads((out / ".kehoach" / "state.json").read_text(encoding="utf-8"))
    assert [(h["version"], h["level"]) for h in state["history"]] == [("1.0.0", "initial"), ("1.1.0", "minor")]


def test_a_schema_change_is_a_major_version(first):
    plan, out = first
    # the package in place declared another structure for one table
    desc = _descriptor(out)
    tasks = next(r for r in desc["resources"] if r["name"] == "tasks")
    tasks["schema"]["fields"] = [f for f in tasks["schema"]["fields"] if f["name"] != "deadline_kind"]
    (out / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
    _as_after_a_code_change(out)
    new = _build(plan, out)
    assert (new["version"], new["previous_version"]) == ("2.0.0", "1.0.0")


def test_a_metadata_change_alone_is_a_patch(first):
    plan, out = first
    desc = _descriptor(out)
    desc["licence_note_en"] = "An earlier wording of the licence note."
    (out / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
    _as_after_a_code_change(out)
    new = _build(plan, out)
    assert (new["version"], new["previous_version"]) == ("1.0.1", "1.0.0")
    assert "descriptive metadata only" in new["change_summary"]
    assert _changes(out) == []


def test_a_second_writer_waits_for_the_lock_or_is_refused(tmp_path):
    out = tmp_path / "output"
    held, release = threading.Event(), threading.Event()

    def writer():
        with exclusive_lock(out):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    held.wait(10)
    try:
        with pytest.raises(KehoachError, match="another build is writing this output"), exclusive_lock(out, wait=False):
            pass
    finally:
        release.set()
        thread.join()
    with exclusive_lock(out, wait=False):  # free again
        pass


def test_kehoach_diff_prints_the_changelog_of_two_packages(first, capsys):
    plan, out = first
    text = plan.read_text(encoding="utf-8")
    task = "2.1 | Tổ chức Tuần lễ Chuyển đổi số năm 2024 | Sở TT&TT | 10/10/2024 |"
    assert text.count(task) == 1
    plan.write_text(text.replace(task, task.replace("10/10/2024", "15/10/2024")), encoding="utf-8")
    _build(plan, out)
    capsys.readouterr()
    assert cli.main(["diff", str(out / "versions" / "1.0.0"), str(out), "--document-only"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Version 1.1.0 (replaces 1.0.0): tasks: 1 changed."
    assert lines[1] == "Phiên bản 1.1.0 (thay cho 1.0.0): tasks: 1 sửa."
    line = next(x for x in lines if "deadline_text" in x)
    assert line.strip().startswith("tasks [task_code=2.1] deadline_text: '10/10/2024' → '15/10/2024' (line ")
    assert any("deadline_date: '2024-10-10' → '2024-10-15'" in x for x in lines)
    assert cli.main(["diff", str(out / "versions" / "1.0.0"), str(out), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["resource"] for r in rows if not r["derived"]} == {"tasks"}


def test_kehoach_diff_locates_a_missing_package(tmp_path, capsys):
    assert cli.main(["diff", str(tmp_path / "nowhere"), str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"{tmp_path / 'nowhere'}: no datapackage.json here\n"


def _changes(out) -> list[dict]:
    import csv

    with (out / "data" / "changes.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_prose_keys_do_not_move_when_a_line_is_inserted_above(plan_source, plan_tables, tmp_path):
    # A line inserted at the very top shifts every source line by one.
    path = write_plan(tmp_path, "\n" + plan_text())
    shifted = parse_source(read_source(path))
    from kehoach.versions.diff import diff_tables

    schemas, derived = current_schemas()
    changes = diff_tables(plan_tables, shifted, schemas, derived)
    assert changes == []
    assert shifted["citations"].column("source_line")[0].as_py() == plan_tables["citations"].column(
        "source_line")[0].as_py() + 1


def test_serve_and_announce_need_a_long_lived_server(tmp_path, monkeypatch, capsys):
    """Through cli.main in the test process (a CLI process costs 6 s of CPU in imports; the exit code of
    a real process is tested by test_publish_local.py's refusal of a missing package). No address: none
    in the environment, and none in Prefect's settings even when the session's temporary server is up."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        for args in (["serve"], ["announce", str(tmp_path / "plan.txt")]):
            assert cli.main(args) == 2
            err = capsys.readouterr().err
            assert err.startswith("PREFECT_API_URL is not set: start a server with 'prefect server start'")
            assert err.count("\n") == 1


def test_the_portal_description_carries_the_latest_change(first):
    from kehoach.publish import ckan
    from kehoach.publish.metadata import dataset_meta
    from kehoach.publish.snapshot import open_package

    plan, out = first
    text = plan.read_text(encoding="utf-8")
    task = "2.1 | Tổ chức Tuần lễ Chuyển đổi số năm 2024 | Sở TT&TT | 10/10/2024 |"
    plan.write_text(text.replace(task, task.replace("10/10/2024", "15/10/2024")), encoding="utf-8")
    desc = _build(plan, out)
    with open_package(out, validate=False) as snap:
        fields = ckan.dataset_fields(dataset_meta(snap), "ds", "org-id")
    assert fields["version"] == "1.1.0"
    assert desc["change_summary"] in fields["notes"] and desc["change_summary_vi"] in fields["notes"]


def test_the_landing_page_shows_the_version_and_its_changelog(first):
    plan, out = first
    assert "Version 1.0.0: the first version." in (out / "index.html").read_text(encoding="utf-8")
    text = plan.read_text(encoding="utf-8")
    row = "1.2 | Hội nghị, hội thảo, tập huấn về Chuyển đổi số; Ngày Chuyển đổi số | - | - | 360 | - |"
    plan.write_text(text.replace(row, row.replace("| 360 |", "| 365 |")), encoding="utf-8")
    desc = _build(plan, out)
    page = html.unescape((out / "index.html").read_text(encoding="utf-8"))
    assert "Version 1.1.0 replaces 1.0.0." in page and desc["change_summary"] in page
    # one row changed (two of its fields): counted once, as the summary counts it
    assert "<td>budget_lines</td><td>changed</td><td class=num>1</td>" in page
    assert "Version 1.0.0: the first version." in (out / "versions" / "1.0.0" / "index.html").read_text(
        encoding="utf-8")
