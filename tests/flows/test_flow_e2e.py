"""End to end through the real Prefect flow and the CLI (one temporary server per session)."""

import html
import json
import os
import shutil
import subprocess
import sys

import pytest
from helpers import plan_text, write_plan

from flows import cli
from kehoach.read.sources import origin_path

pytestmark = pytest.mark.prefect


def test_build_package_flow_writes_a_valid_package(prefect_harness, plan_path, tmp_path):
    from flows.pipeline import build_package

    out = tmp_path / "output"
    result = build_package(sources=[str(plan_path)], out=str(out))
    assert result.changed and result.version == "1.0.0"
    assert result.counts["tasks"] == 74 and result.counts["budget_lines"] == 122
    desc = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert desc["content_sha256"] == result.content_sha256
    assert (out / "data" / "tasks.parquet").exists()


def test_cli_reports_a_table_ending_mid_row_in_one_line(prefect_harness, tmp_path, capsys):
    out = tmp_path / "output"
    good = write_plan(tmp_path, plan_text(), "good.txt")
    assert cli.main(["build", str(good), "--out", str(out)]) == 0
    before = (out / "datapackage.json").read_bytes()
    capsys.readouterr()

    lines = plan_text().split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("1.1 | Truyền thông về chuyển đổi số"))
    truncated = "\n".join([*lines[:start + 2], "PHỤ LỤC 3"])  # row 1.1 stops after 5 of its 7 cells
    bad = write_plan(tmp_path, truncated, "bad.txt")
    assert cli.main(["build", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"{bad}:{start + 1}: table ends mid-row: 5 of 7 cells\n"
    assert (out / "datapackage.json").read_bytes() == before


def test_cli_refuses_a_legacy_encoding_in_one_located_line(prefect_harness, tmp_path):
    """The real CLI process; given the session's Prefect API, it starts no temporary server of its own
    (the refusal comes before the flow either way: a server started would only be stopped again)."""
    from prefect import get_client

    with get_client(sync_client=True) as client:
        env = {**os.environ, "PREFECT_API_URL": str(client.api_url)}
    path = tmp_path / "cp1258.txt"
    path.write_bytes("Bên hơn Hà".encode("cp1258"))
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "build", str(path), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, check=False, timeout=120, env=env,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"{path}:1: not valid UTF-8 text")
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "out").exists()


def test_the_flow_refreshes_on_the_bytes_of_texts_and_origin_records(prefect_harness, plan_path, tmp_path):
    from flows.pipeline import build_package

    plan = write_plan(tmp_path, plan_text(), plan_path.name)
    shutil.copyfile(origin_path(plan_path), origin_path(plan))
    out = tmp_path / "output"
    assert build_package(sources=[str(plan)], out=str(out)).version == "1.0.0"
    files = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    os.utime(plan)  # touched, same bytes
    result = build_package(sources=[str(plan)], out=str(out))
    assert (result.changed, result.version) == (False, "1.0.0")
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == files
    origin = json.loads(origin_path(plan).read_text(encoding="utf-8"))
    origin_path(plan).write_text(json.dumps({**origin, "title_en": "Another title"}), encoding="utf-8")
    result = build_package(sources=[str(plan)], out=str(out))
    assert (result.changed, result.version) == (True, "1.0.1")
    assert json.loads((out / "datapackage.json").read_text(encoding="utf-8"))["sources"][0]["title_en"] == (
        "Another title")


def test_the_cli_gives_the_flow_the_address_a_text_was_published_at(prefect_harness, plan_path, tmp_path,
                                                                      monkeypatch):
    from prefect import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    plan = write_plan(tmp_path, plan_text(), plan_path.name)
    shutil.copyfile(origin_path(plan_path), origin_path(plan))
    out, portal = tmp_path / "output", tmp_path / "portal"
    monkeypatch.setenv("KEHOACH_PUBLISH_TARGET", str(portal))
    page = "https://vanban.quangngai.gov.vn/van-ban?so=219/KH-UBND&nam=2023"  # '=' in its query: an address alone
    assert cli.main(["build", str(plan), "--out", str(out), "--source-url", page, "--publish"]) == 0
    with get_client(sync_client=True) as client:  # a parameter of the flow run, as Prefect records it
        runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["build_package"])))
    assert [r.parameters["source_urls"] for r in runs if r.parameters.get("out") == str(out)] == [{str(plan): page}]
    desc = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert desc["sources"][0]["url"] == page
    assert json.loads((out / "source" / origin_path(plan).name).read_text(encoding="utf-8"))["url"] == page
    assert f'<a href="{html.escape(page)}">' in (out / "index.html").read_text(encoding="utf-8")
    dataset = json.loads((portal / desc["name"] / "dataset.jsonld").read_text(encoding="utf-8"))
    assert [d.get("@id") for d in dataset["prov:wasDerivedFrom"]] == [page] and dataset["foaf:page"]["@id"] == page
    # refresh with another address: a patch version of the same data, published (not 'already published')
    moved = "https://vanban.quangngai.gov.vn/219-kh-ubnd"
    assert cli.main(["refresh", str(plan), "--out", str(out), "--source-url", f"{plan.name}={moved}"]) == 0
    desc = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert desc["version"] == "1.0.1" and f"Source address changed: {plan.name} → {moved}." in desc["change_summary"]
    dataset = json.loads((portal / desc["name"] / "dataset.jsonld").read_text(encoding="utf-8"))
    assert [d.get("@id") for d in dataset["prov:wasDerivedFrom"]] == [moved] and dataset["owl:versionInfo"] == "1.0.1"
