"""The landing page (index.html) and its charts: content, determinism, and a real headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from decimal import Decimal
from html import unescape
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import descriptor, write_plan
from sample_plans import OTHER_PLAN

from kehoach import build
from kehoach.core.files import sha256_file
from kehoach.core.model import load_schema, queried, resource_names
from kehoach.package import landing, landing_data, pending
from kehoach.package.landing import PAGE_RESOURCE, stage_landing_page
from kehoach.package.layout import CHARTS_DIR, PAGE_FILE, parquet_path
from kehoach.parse import corpus_tables

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    """Open ``page`` from disk in a real headless Chromium (installed by the Makefile from Debian).

    Its profile is ``profile``; its home is a file beside it, not a folder: Chromium writes crash
    reports and a dconf cache under the home when it can, and must work when the home is private,
    read-only or missing (it does: nothing of the user's home is needed, nothing written there)."""
    assert CHROMIUM.is_file(), "chromium is missing: `make test` installs it (apt-get install chromium)"
    no_home = profile.parent / "home-not-a-folder"
    no_home.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")} | {"HOME": str(no_home)}
    return subprocess.run([str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=True, env=env)


def render_check(dom: str) -> dict[str, str]:
    """The marker the page's inline script writes once loaded: charts found, drawn, errors seen."""
    tag = re.search(r'<p id="render-check"([^>]*)>([^<]*)</p>', dom)
    assert tag, "the page's render check did not run"
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag.group(1)))
    return {**attrs, "messages": unescape(tag.group(2))}


def console_messages(stderr: str) -> list[str]:
    """Console messages Chromium logs with --enable-logging=stderr (every level is logged as INFO)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def load_tables(package: Path) -> dict:
    return {n: pq.read_table(package / parquet_path(n)) for n in resource_names()}


@pytest.fixture(scope="module")
def page(built_package) -> Path:
    return built_package / PAGE_FILE


@pytest.fixture(scope="module")
def html(page) -> str:
    return page.read_text(encoding="utf-8")


def chart_resources(desc: dict) -> list[dict]:
    return [r for r in desc["resources"] if r["path"].startswith(f"{CHARTS_DIR}/")]


def test_the_page_and_its_charts_are_file_resources_with_hashes(built_package):
    desc = descriptor(built_package)
    listed = {r["name"]: r for r in desc["resources"]}
    page = listed[PAGE_RESOURCE]
    assert page["path"] == PAGE_FILE and page["mediatype"] == "text/html"
    assert page["hash"] == f"sha256:{sha256_file(built_package / PAGE_FILE)}"
    charts = chart_resources(desc)
    assert len(charts) == 4  # budget by area and level, investment phasing, tasks per agency, deadlines
    for r in charts:
        assert r["mediatype"] == "image/svg+xml" and r["bytes"] == (built_package / r["path"]).stat().st_size
    assert desc["image"] == charts[0]["path"]


def test_the_page_says_what_the_plan_is_and_what_the_audit_found(built_package, html):
    tables = load_tables(built_package)
    plan = tables["plans"].to_pylist()[0]
    for text in (plan["number"], plan["issuer"], plan["title"], f"{plan['issued_date']:%Y-%m-%d}"):
        assert text in unescape(html)
    source = next(r["path"] for r in descriptor(built_package)["resources"] if r["path"].endswith(plan["source_file"]))
    assert f'<a href="{source}">' in html and (built_package / source).is_file()
    for finding in tables["findings"].to_pylist():
        assert finding["message_vi"] in unescape(html) and finding["message_en"] in unescape(html)


def test_every_table_has_a_preview_and_its_dictionary(built_package, html):
    text = unescape(html)
    tables = load_tables(built_package)
    for name in resource_names():
        assert f'id="table-{name}"' in html
        for field in load_schema(name)["fields"]:
            assert field["title"] in text and field["description_vi"] in text
    first_task = tables["tasks"].to_pylist()[0]
    assert first_task["name"] in text
    assert "CC-BY-4.0" in text and "1.0.0" in text


def test_the_budget_chart_adds_up_to_the_budget_lines(built_package):
    lines = [r for r in tables_rows(built_package, "budget_lines")
             if r["budget_level"] != "all" and r["expenditure_type"] != "all"]
    total = sum(r["amount_million_vnd"] for r in lines)
    svg = (built_package / CHARTS_DIR / "budget_by_area_level.svg").read_text(encoding="utf-8")
    # written as a Vietnamese reader reads numbers: '.' groups thousands, ',' starts decimals
    bar_totals = [Decimal(v.replace(".", "").replace(",", "."))
                  for v in re.findall(r'class="total">([0-9,.]+)</text>', svg)]
    assert sum(bar_totals) == total > 0


GROUPED = r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d+)?"


def test_numbers_are_written_as_each_language_reads_them(built_package, html):
    total = sum(r["amount_million_vnd"] for r in tables_rows(built_package, "budget_lines")
                if r["budget_level"] != "all" and r["expenditure_type"] != "all")
    text = unescape(html)
    vi = f"{total:,.0f}".replace(",", ".")
    assert f"{vi} triệu đồng kinh phí" in text and f"{total:,.0f} million VND of estimated budget" in text
    # every grouped figure the page and its charts show: Vietnamese style unless it is the English half
    for figure, unit in re.findall(rf"({GROUPED}) (triệu đồng|million VND)", text):
        style = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?" if unit == "million VND" else r"\d{1,3}(?:\.\d{3})+(?:,\d+)?"
        assert re.fullmatch(style, figure), (figure, unit)
    for svg in (built_package / CHARTS_DIR).glob("*.svg"):
        shown = re.findall(r">([^<]*)</text>", svg.read_text(encoding="utf-8"))
        assert not [t for t in shown if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", t)], svg.name
    assert any(re.fullmatch(r"\d{1,3}(?:\.\d{3})+", t) for t in re.findall(
        r">([^<]*)</text>", (built_package / CHARTS_DIR / "budget_by_area_level.svg").read_text(encoding="utf-8")))


def tables_rows(package: Path, name: str) -> list[dict]:
    return pq.read_table(package / parquet_path(name)).to_pylist()


def test_the_same_data_gives_the_same_bytes(built_package, tmp_path):
    desc = descriptor(built_package)
    extra = {k: desc[k] for k in ("name", "version", "created", "homepage", "title_vi")}
    shutil.copytree(built_package / "source", tmp_path / "source")  # where the page says the text was published
    written = stage_landing_page(load_tables(built_package), tmp_path, extra)
    assert [r["hash"] for r in written] == [
        next(r["hash"] for r in desc["resources"] if r["name"] == w["name"]) for w in written]
    assert extra["image"] == desc["image"]


def test_the_page_is_static_and_offline(html):
    # links to elsewhere are fine (the licence); loading anything is not
    assert not re.search(r'src=|<link|@import|url\(', html), "the page loads nothing, not even from disk"
    assert "<svg" in html


@pytest.mark.browser
def test_chromium_draws_every_chart_with_no_console_error(built_package, page, tmp_path):
    run = chromium(page, tmp_path / "profile", "--enable-logging=stderr", "--v=0", "--dump-dom")
    check = render_check(run.stdout)
    expected = len(chart_resources(descriptor(built_package)))
    assert (check["charts"], check["charts-drawn"], check["errors"]) == (str(expected), str(expected), "0"), check
    assert console_messages(run.stderr) == []


@pytest.mark.browser
def test_chromium_takes_a_screenshot(page, tmp_path):
    shot = tmp_path / "page.png"
    chromium(page, tmp_path / "profile", "--window-size=1280,2400", f"--screenshot={shot}")
    assert png_size(shot) == (1280, 2400)
    assert shot.stat().st_size > 50_000  # a drawn page, not a blank one


@pytest.mark.browser
def test_the_check_catches_a_broken_page(html, tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text(html.replace("</body>", "<script>console.error('boom'); missing();</script></body>"),
                      encoding="utf-8")
    run = chromium(broken, tmp_path / "profile", "--enable-logging=stderr", "--v=0", "--dump-dom")
    assert render_check(run.stdout)["errors"] == "1"
    assert any('"boom"' in line for line in console_messages(run.stderr))


@pytest.mark.browser
def test_a_package_of_two_plans_gets_one_page_for_both(plan_path, tmp_path):
    sources = tmp_path / "raw"
    sources.mkdir()
    shutil.copy(plan_path, sources / plan_path.name)
    write_plan(sources, OTHER_PLAN, "bdi-45-KH-UBND-2025.txt")
    out = tmp_path / "output"
    build.run_build([sources], out, steps=build.Steps(validate=lambda *args: None))
    text = unescape((out / PAGE_FILE).read_text(encoding="utf-8"))
    for plan in load_tables(out)["plans"].to_pylist():
        assert plan["number"] in text and plan["title"] in text
    run = chromium(out / PAGE_FILE, tmp_path / "profile", "--enable-logging=stderr", "--v=0", "--dump-dom")
    check = render_check(run.stdout)
    charts = str(len(chart_resources(descriptor(out))))
    assert (check["charts"], check["charts-drawn"], check["errors"]) == (charts, charts, "0")
    assert console_messages(run.stderr) == []


def _covering_family(stack: str, text: str) -> str | None:
    """The first family of a CSS font stack that fontconfig says has a glyph for every letter of ``text``."""
    charset = " ".join(f"{ord(c):x}" for c in sorted(set(text)) if not c.isspace())
    for family in (f.strip().strip('"') for f in stack.split(",")):
        found = subprocess.run(["fc-list", f":family={family}:charset={charset}", "family"],
                               capture_output=True, text=True, check=True).stdout
        if found.strip():
            return family
    return None


@pytest.mark.browser
def test_the_citation_block_is_drawn_in_a_font_with_every_vietnamese_letter(html, tmp_path):
    style = re.search(r"<style>(.*?)</style>", html, flags=re.S).group(1)
    citation = re.search(r"<pre>(.*?)</pre>", html, flags=re.S).group(1)
    stack = re.search(r"\bpre \{[^}]*font-family: ([^;]+);", style)
    assert stack, "the citation block names its fonts (the browser's monospace lacks Vietnamese letters)"
    family = _covering_family(stack.group(1), unescape(citation))
    assert family, f"no font of {stack.group(1)} has every letter of the citation"
    shots = []
    for name, attribute in (("page", ""), ("reference", f" style=\"font-family: '{family}'\"")):
        page = tmp_path / f"{name}.html"
        page.write_text(f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><style>{style}'
                        f"pre {{ font-size: 28px; }}</style></head><body><pre{attribute}>{citation}</pre></body>"
                        "</html>", encoding="utf-8")
        shot = tmp_path / f"{name}.png"
        chromium(page, tmp_path / f"profile-{name}", "--window-size=1000,600", f"--screenshot={shot}")
        shots.append(shot.read_bytes())
    # every letter drawn from that font, none composed from a fallback's pieces ('Kê´hoạch')
    assert shots[0] == shots[1] and len(shots[0]) > 10_000


def test_charts_begun_with_the_stage_are_those_drawn_at_the_page(plan_tables, tmp_path, monkeypatch):
    """The stage begins the charts in a thread (``begin_charts``); the page takes them, or draws them itself."""
    inline = landing_data.charts(plan_tables, tmp_path)

    def taken() -> list:
        return pending.take(tmp_path, landing.CHARTS_WORK, lambda: landing_data.charts(plan_tables, tmp_path))
    landing.begin_charts(plan_tables, tmp_path)
    assert taken() == inline
    assert taken() == inline  # none begun: drawn now
    monkeypatch.setattr(landing, "charts", lambda tables, directory: 1 / 0)
    landing.begin_charts(plan_tables, tmp_path)
    with pytest.raises(ZeroDivisionError):  # the thread's error, raised where the page takes them
        taken()
    landing.begin_charts(plan_tables, tmp_path)
    pending.settle(tmp_path)  # a failed stage waits for the thread, its error ignored
    assert pending._begun == {}


def test_charts_of_a_corpus_read_from_its_files_by_batches_are_those_of_its_tables_held(plan_tables, tmp_path,
                                                                                        monkeypatch):
    """Every table counted as large: each is queried as a stream of its file's batches, read anew at each scan."""
    monkeypatch.setattr(corpus_tables, "KEPT_MAPPED_BYTES", 0)
    on_disk = corpus_tables.write_tables(tmp_path / "tables", [dict(plan_tables)])
    scanned = queried(on_disk, "tasks")
    assert isinstance(scanned, corpus_tables.Rescanned)
    for _ in range(2):  # read anew at each scan
        assert pa.RecordBatchReader.from_stream(scanned).read_all().equals(plan_tables["tasks"])
    held = landing_data.charts(dict(plan_tables), tmp_path)
    assert landing_data.charts(on_disk, tmp_path) == held and len(held) > 1
