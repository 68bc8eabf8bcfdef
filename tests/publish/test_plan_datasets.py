"""One portal dataset per plan, plus the corpus: an amendment to one plan
publishes a new version of that plan's dataset (and of the corpus) only."""

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from corpus import write_corpus
from helpers import PLAN_FILE, UNVALIDATED

from kehoach import build
from kehoach.core.model import resource_names
from kehoach.package.validate import validate_package
from kehoach.publish.targets import publish

AMENDED_TASK = "Tổ chức Tuần lễ Chuyển đổi số năm 2024"
# The corpus builds leave validation out (helpers.UNVALIDATED); each plan package is validated by its own
# build and by test_a_plan_package_passes_every_check.


def files(directory: Path) -> dict[str, int]:
    return {str(p.relative_to(directory)): p.stat().st_mtime_ns for p in directory.rglob("*") if p.is_file()}


def tables(directory: Path) -> dict:
    return {name: pq.read_table(directory / "data" / f"{name}.parquet") for name in resource_names()}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("datasets")
    paths = write_corpus(PLAN_FILE, root / "raw", 3)
    out, portal = root / "output", root / "portal"
    build.run_build([root / "raw"], out, steps=UNVALIDATED)
    first = publish(out, portal, validate=False)
    return root, paths, out, portal, first


def test_one_dataset_per_plan_and_one_for_the_corpus(published):
    _root, _paths, out, portal, first = published
    plan_ids = pq.read_table(out / "data" / "plans.parquet").column("plan_id").to_pylist()
    assert first.dataset == "kehoach-quang-ngai-plans" and first.changed
    assert [p.dataset for p in first.plans] == [f"kehoach-{p}" for p in plan_ids]
    assert all(p.changed and p.version == "1.0.0" for p in first.plans)
    catalog = json.loads((portal / "catalog.json").read_text(encoding="utf-8"))
    assert sorted(d["name"] for d in catalog["datasets"]) == sorted([first.dataset, *(p.dataset for p in first.plans)])


def test_a_plan_dataset_holds_that_plan_as_if_built_alone(published, tmp_path):
    _root, paths, _out, portal, first = published
    build.run_build([paths[1]], tmp_path / "alone", steps=UNVALIDATED)
    expected = tables(tmp_path / "alone")
    got = tables(portal / first.plans[1].dataset)
    assert got["tasks"].num_rows == 74
    for name in resource_names():
        assert got[name].equals(expected[name]), name


def test_an_amendment_touches_its_plan_dataset_and_the_corpus_only(published):
    root, paths, out, portal, first = published
    again = publish(out, portal, validate=False)
    assert not again.changed and all(p.skipped and not p.changed for p in again.plans)

    before = {p.dataset: files(portal / p.dataset) for p in first.plans}
    packages = {p.dataset: files(out / "plans" / p.dataset.removeprefix("kehoach-")) for p in first.plans}
    text = paths[1].read_text(encoding="utf-8")
    assert AMENDED_TASK in text
    paths[1].write_text(text.replace(AMENDED_TASK, f"{AMENDED_TASK} (bổ sung)"), encoding="utf-8")
    result = build.run_build([root / "raw"], out, steps=UNVALIDATED)
    assert result.changed and result.version == "1.1.0"

    report = publish(out, portal, validate=False)
    assert report.changed and report.version == "1.1.0"
    amended, others = first.plans[1].dataset, [first.plans[0].dataset, first.plans[2].dataset]
    by_name = {p.dataset: p for p in report.plans}
    assert by_name[amended].changed and by_name[amended].version == "1.1.0"
    assert "1 published, 2 unchanged" in report.summary()
    for name in others:
        assert by_name[name].skipped and not by_name[name].changed
        assert files(portal / name) == before[name]  # not written to
        assert files(out / "plans" / name.removeprefix("kehoach-")) == packages[name]
    changes = pq.read_table(portal / amended / "data" / "changes.parquet").to_pylist()
    assert [(c["resource"], c["change"]) for c in changes] == [("tasks", "changed")]
    desc = json.loads((portal / amended / "datapackage.json").read_text(encoding="utf-8"))
    assert desc["previous_version"] == "1.0.0"


def test_a_plan_package_passes_every_check(published):
    """Its build checks only the tables made for it (kehoach.datasets); the full check agrees."""
    _root, _paths, out, _portal, first = published
    for plan in first.plans:
        summary = validate_package(out / "plans" / plan.dataset.removeprefix("kehoach-"))
        assert summary.rows > 0


def test_a_plan_that_leaves_the_corpus_is_retired_and_withdrawn_then_can_return(published):
    root, paths, out, portal, first = published
    gone, stays = first.plans[2].dataset, [first.plans[0].dataset, first.plans[1].dataset]
    plan_id = gone.removeprefix("kehoach-")
    before = {name: files(portal / name) for name in stays}
    text = paths[2].read_text(encoding="utf-8")
    paths[2].unlink()
    build.run_build([root / "raw"], out, steps=UNVALIDATED)

    report = publish(out, portal, validate=False)
    assert report.withdrawn == [gone] and [p.dataset for p in report.plans] == stays
    assert f"withdrawn (plan no longer in the corpus): {gone}" in report.summary()
    # the package is retired whole, not deleted
    assert not (out / "plans" / plan_id).exists()
    retired = out / "retired-plans" / plan_id
    state = json.loads((retired / ".kehoach" / "state.json").read_text(encoding="utf-8"))
    assert state["retired"]["corpus_version"] == report.version and (retired / "data" / "tasks.csv").is_file()
    # the portal keeps its files, says it is withdrawn, and lists it as withdrawn only
    notice = json.loads((portal / gone / "withdrawn.json").read_text(encoding="utf-8"))
    assert notice["name"] == gone and notice["version"] == "1.0.0"
    catalog = json.loads((portal / "catalog.json").read_text(encoding="utf-8"))
    assert gone not in [d["name"] for d in catalog["datasets"]]
    assert [d["name"] for d in catalog["withdrawn"]] == [gone]
    catalog_ld = (portal / "catalog.jsonld").read_text(encoding="utf-8")
    assert f'"{gone}/' not in catalog_ld and f'"{stays[0]}/' in catalog_ld
    assert all(files(portal / name) == before[name] for name in stays)
    assert not publish(out, portal, validate=False).withdrawn  # once

    paths[2].write_text(text, encoding="utf-8")
    build.run_build([root / "raw"], out, steps=UNVALIDATED)
    back = publish(out, portal, validate=False)
    assert not back.withdrawn and not (out / "retired-plans" / plan_id).exists()
    returned = {p.dataset: p for p in back.plans}[gone]
    assert returned.changed and returned.version == "1.0.0" and returned.deleted == ["withdrawn.json"]
    catalog = json.loads((portal / "catalog.json").read_text(encoding="utf-8"))
    assert gone in [d["name"] for d in catalog["datasets"]] and "withdrawn" not in catalog
    state = json.loads((out / "plans" / plan_id / ".kehoach" / "state.json").read_text(encoding="utf-8"))
    assert "retired" not in state and state["version"] == "1.0.0"


def test_an_address_given_to_the_corpus_build_reaches_that_plan_s_dataset_only(published):
    root, paths, out, portal, first = published
    before = publish(out, portal, validate=False)
    page = "https://vanban.example.gov.vn/ke-hoach-219"
    result = build.run_build([root / "raw"], out, source_urls={paths[0].name: page}, steps=UNVALIDATED)
    assert result.changed and f"Source address changed: {paths[0].name} → {page}." in json.loads(
        (out / "datapackage.json").read_text(encoding="utf-8"))["change_summary"]
    report = publish(out, portal, validate=False)
    by_name = {p.dataset: p for p in report.plans}
    given, others = first.plans[0].dataset, [first.plans[1].dataset, first.plans[2].dataset]
    assert by_name[given].changed and by_name[given].version != {p.dataset: p for p in before.plans}[given].version
    desc = json.loads((portal / given / "datapackage.json").read_text(encoding="utf-8"))
    assert [s.get("url") for s in desc["sources"]] == [page]
    assert all(by_name[name].skipped and not by_name[name].changed for name in others)
