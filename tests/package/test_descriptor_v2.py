"""The Data Package v2 descriptor (id, homepage, contributors, bytes and hash), the source text shipped
in the package, CITATION.cff, and what the README and the description tell readers."""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from helpers import copy_package

from kehoach.core.model import resource_names
from kehoach.core.settings import settings
from kehoach.package.citation import CITATION_FILE
from kehoach.package.landing import stage_landing_page
from kehoach.package.layout import parquet_path
from kehoach.package.readme import stage_readme
from kehoach.publish import ckan_fields
from kehoach.publish.metadata import dataset_meta
from kehoach.publish.snapshot import open_package

NAME = "kehoach-quang-ngai-219-kh-ubnd-2023"


def descriptor(package) -> dict:
    return json.loads((package / "datapackage.json").read_text(encoding="utf-8"))


def test_v2_identity_and_contributors(built_package):
    desc = descriptor(built_package)
    assert desc["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    assert desc["id"] == desc["homepage"] == settings().dataset_url(NAME)
    # the publisher is the portal's organisation (the default one here), also the contact; the
    # plan's issuer is the creator of the source, never the publisher
    publisher = next(c for c in desc["contributors"] if "publisher" in c["roles"])
    assert (publisher["title"], publisher["roles"], publisher["path"]) == (
        "kehoach", ["publisher", "contact"], settings().portal_url)
    issuer = next(c for c in desc["contributors"] if "creator" in c["roles"])
    assert (issuer["title"], issuer["title_en"], issuer["roles"]) == (
        "Ủy ban nhân dân tỉnh Quảng Ngãi", "People's Committee of Quang Ngai", ["creator"])
    assert desc["issued"] == desc["created"]  # the first version


def test_every_resource_has_its_hash_and_every_file_its_bytes(built_package):
    for r in descriptor(built_package)["resources"]:
        data = (built_package / r["path"]).read_bytes()
        assert r["hash"] == f"sha256:{hashlib.sha256(data).hexdigest()}", r["name"]
        if r["format"] != "parquet":  # Frictionless 5 cannot count Parquet bytes (see writer.py)
            assert r["bytes"] == len(data), r["name"]


def test_the_source_text_is_in_the_package(built_package, plan_path):
    desc = descriptor(built_package)
    source = desc["sources"][0]
    assert source["path"] == f"source/{plan_path.name}"
    assert (built_package / source["path"]).read_bytes() == plan_path.read_bytes()
    assert source["hash"] == f"sha256:{hashlib.sha256(plan_path.read_bytes()).hexdigest()}"
    paths = {r["path"] for r in desc["resources"]}
    origin = f"source/{plan_path.stem}.origin.json"
    assert {source["path"], origin} <= paths
    assert json.loads((built_package / origin).read_text(encoding="utf-8"))["number"] == "219/KH-UBND"


def test_citation_cff(built_package):
    cff = yaml.safe_load((built_package / CITATION_FILE).read_text(encoding="utf-8"))
    desc = descriptor(built_package)
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "dataset"
    assert cff["authors"] == [{"name": "kehoach", "website": settings().portal_url}]  # the publisher
    assert cff["references"][0]["authors"] == [{"name": "Ủy ban nhân dân tỉnh Quảng Ngãi"}]  # the issuer
    assert cff["version"] == desc["version"] and cff["url"] == desc["homepage"]
    assert cff["date-released"] == desc["created"][:10] and cff["license"] == "CC-BY-4.0"
    plan = cff["references"][0]
    assert plan["number"] == "219/KH-UBND" and plan["date-published"] == "2023-12-20"


def test_readme_warns_about_naive_csv_and_says_how_to_cite(built_package):
    readme = (built_package / "README.md").read_text(encoding="utf-8")
    assert "`2.10` thành số 2.1" in readme and "`2.10` into the number 2.1" in readme
    assert "pd.read_csv('data/budget_lines.csv', dtype=str)" in readme
    assert "pd.read_parquet('data/budget_lines.parquet', dtype_backend='pyarrow')" in readme
    assert "read_csv('data/budget_lines.csv', all_varchar=true)" in readme
    assert "data/kehoach.xlsx" in readme and "data/kehoach.duckdb" in readme
    assert "## Trích dẫn / How to cite" in readme and CITATION_FILE in readme
    assert settings().dataset_url(NAME) in readme and "khái toán" in readme


def test_the_safe_csv_load_joins_right_and_the_naive_one_does_not(built_package):
    """What the README warns about, on the real data: codes read as numbers merge 2.1 with 2.10."""
    lines, items = built_package / "data/budget_lines.csv", built_package / "data/budget_items.csv"
    keys = ["plan_id", "item_code"]
    safe = pd.read_csv(lines, dtype=str).merge(pd.read_csv(items, dtype=str), on=keys)
    assert len(safe) == len(pd.read_csv(lines, dtype=str))
    naive = pd.read_csv(lines).merge(pd.read_csv(items), on=keys)
    assert len(naive) > len(safe)


def test_amounts_are_said_to_be_estimates(built_package):
    desc = descriptor(built_package)
    assert "khái toán" in desc["description_vi"] and "not allocated budgets" in desc["description_en"]


def test_the_duckdb_lines_in_the_readme_run(built_package, monkeypatch):
    readme = (built_package / "README.md").read_text(encoding="utf-8")
    block = readme.split("```sql\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(built_package)  # the README's paths are relative to the package
    con = duckdb.connect()
    as_text, typed = (line.split(";  --")[0] for line in block.strip().splitlines())
    rows = con.sql(as_text).fetchall()
    assert len(rows) == pq.read_metadata("data/budget_lines.parquet").num_rows
    assert {r[1] for r in rows} >= {"2.10", "2.1"}  # item_code kept as written
    attach, select = typed.split("; ", 1)
    con.sql(attach)
    total = con.sql(select.replace("SELECT *", "SELECT sum(amount_million_vnd)")).fetchall()[0][0]
    assert total == sum(pq.read_table("data/budget_lines.parquet").column("amount_million_vnd").to_pylist())


def test_where_the_source_was_published_is_shown_or_said_unknown(built_package, plan_path, tmp_path):
    origin = json.loads(plan_path.with_suffix(".origin.json").read_text(encoding="utf-8"))
    page = origin["url"]  # raw/: the page the text was copied from, found afterwards (its evidence in url_note)
    assert page.startswith("https://") and "219-kh-ubnd" in page and origin["url_note"]
    source = descriptor(built_package)["sources"][0]
    assert source["url"] == page
    assert f"Nơi công bố / Published at: {page}" in (built_package / "README.md").read_text(encoding="utf-8")
    assert f'<a href="{html.escape(page)}">' in (built_package / "index.html").read_text(encoding="utf-8")
    references = yaml.safe_load((built_package / CITATION_FILE).read_text(encoding="utf-8"))["references"]
    assert [r.get("url") for r in references] == [page]
    with open_package(copy_package(built_package, tmp_path / "copy"), validate=False) as snap:
        meta = dataset_meta(snap)
    fields = ckan_fields.dataset_fields(meta, NAME, "org")
    assert fields["url"] == page and f"**Nơi công bố / Published at:** <{page}>" in fields["notes"]
    # a page not recorded: the note says so, and CKAN's 'url' (its dataset page's "Source") is the
    # issuer's website
    unknown = "trang công bố chưa được ghi lại"
    del meta.sources[0]["url"]
    meta.sources[0]["url_note"] = unknown
    fields = ckan_fields.dataset_fields(meta, NAME, "org")
    assert fields["url"] == "https://www.quangngai.gov.vn" and unknown in fields["notes"]
    staged = copy_package(built_package, tmp_path / "staged")
    shipped = staged / "source" / plan_path.with_suffix(".origin.json").name
    shipped.write_text(json.dumps({**origin, "url": None, "url_note": unknown}, ensure_ascii=False),
                       encoding="utf-8")
    tables = {n: pq.read_table(built_package / parquet_path(n)) for n in resource_names()}
    desc = descriptor(built_package)
    extra = {k: desc[k] for k in ("name", "version", "created", "homepage", "id", "title_vi")}
    stage_readme(tables, staged, extra)
    stage_landing_page(tables, staged, extra)
    assert f"Nơi công bố / Published at: {unknown}" in (staged / "README.md").read_text(encoding="utf-8")
    landing = (staged / "index.html").read_text(encoding="utf-8")
    assert unknown in landing and page not in landing


README = Path(__file__).resolve().parents[2] / "README.md"


def _pandas_lines(text: str) -> list[str]:
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    return [line.split("  #")[0] for block in blocks for line in block.splitlines() if "pd.read_" in line]


@pytest.mark.parametrize("readme", ["package", "repository"])
def test_the_pandas_lines_of_the_readmes_run_and_give_typed_columns(built_package, monkeypatch, readme):
    if readme == "package":
        monkeypatch.chdir(built_package)
        lines = _pandas_lines((built_package / "README.md").read_text(encoding="utf-8"))
    else:
        monkeypatch.chdir(built_package.parent)  # the README's paths start at output/
        lines = _pandas_lines(README.read_text(encoding="utf-8"))
    parquet = next(line for line in lines if "read_parquet" in line)
    frame = eval(parquet.split("; ", 1)[1], {"pd": pd})
    assert str(frame["amount_million_vnd"].dtype) == "decimal128(20, 6)[pyarrow]"
    assert frame["amount_million_vnd"].sum() == sum(pq.read_table("data/budget_lines.parquet" if readme == "package"
                                                                  else "output/data/budget_lines.parquet")
                                                    .column("amount_million_vnd").to_pylist())
    tasks = eval(parquet.split("; ", 1)[1].replace("budget_lines", "tasks"), {"pd": pd})
    months = tasks["deadline_date"].dt.month.dropna()  # what failed on the object column pandas gave
    assert len(months) > 0 and set(months) <= set(range(1, 13))
    text = eval(next(line for line in lines if "read_csv" in line).split("; ", 1)[1], {"pd": pd})
    assert {"2.10", "2.1"} <= set(text["item_code"])
