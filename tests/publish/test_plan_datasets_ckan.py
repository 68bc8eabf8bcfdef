"""One CKAN dataset per plan, plus the corpus, on the real local CKAN.

The corpus is three renumbered copies of ``raw/`` whose numbers are drawn for
this session, so their datasets (named by plan, not by the test) cannot meet
those of another session on the same portal. Every dataset is purged at the end.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest
from ckan_helpers import assert_published, key
from corpus import variant
from helpers import PLAN_FILE, UNVALIDATED

from kehoach import build
from kehoach.publish.targets import publish

pytestmark = pytest.mark.ckan

AMENDED_TASK = "Tổ chức Tuần lễ Chuyển đổi số năm 2024"
PLANS = 3


def to_ckan(ckan, out: Path, dataset: str):
    return publish(out, "ckan", dataset=dataset, org=ckan.org, ckan_url=ckan.url, validate=False)


def plan_ids(out: Path) -> list[str]:
    return pq.read_table(out / "data" / "plans.parquet").column("plan_id").to_pylist()


def datastore_rows(ckan, resource_id: str) -> list[dict]:
    return ckan.action("datastore_search", resource_id=resource_id, limit=32000)["records"]


def resource(shown: dict, name: str) -> dict:
    return next(r for r in shown["resources"] if key(r) == name)


@pytest.fixture(scope="module")
def corpus(local_ckan, tmp_path_factory):
    """(raw dir, its files, out, corpus dataset, first report): the corpus built and published once."""
    root = tmp_path_factory.mktemp("ckan-plans")
    text = PLAN_FILE.read_text(encoding="utf-8")
    first_copy = random.Random(local_ckan.run).randrange(1000, 60000)
    paths = []
    for i in range(PLANS):
        path = root / "raw" / f"plan-{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(variant(text, first_copy + i), encoding="utf-8")
        paths.append(path)
    out = root / "output"
    build.run_build([root / "raw"], out, steps=UNVALIDATED)
    dataset = local_ckan.dataset("corpus")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("CKAN_API_TOKEN", raising=False)
        mp.setenv("CKAN_API_TOKEN_FILE", str(local_ckan.token_file))
        local_ckan.datasets.extend(f"kehoach-{p}" for p in plan_ids(out))  # purged at the end too
        first = to_ckan(local_ckan, out, dataset)
    return root, paths, out, dataset, first


@pytest.fixture(autouse=True)
def token_from_file(monkeypatch, local_ckan):
    monkeypatch.delenv("CKAN_API_TOKEN", raising=False)
    monkeypatch.setenv("CKAN_API_TOKEN_FILE", str(local_ckan.token_file))


def test_one_dataset_per_plan_and_one_for_the_corpus(corpus, local_ckan):
    _root, _paths, out, dataset, first = corpus
    ids = plan_ids(out)
    assert len(ids) == PLANS and first.metadata == "created"
    assert [p.dataset for p in first.plans] == [f"kehoach-{p}" for p in ids]
    for name in (dataset, *(p.dataset for p in first.plans)):
        shown = local_ckan.show(name)
        assert shown["state"] == "active" and shown["organization"]["name"] == local_ckan.org
    assert_published(local_ckan, dataset, out, download=False)
    for plan_id, report in zip(ids, first.plans, strict=True):
        shown = assert_published(local_ckan, report.dataset, out / "plans" / plan_id, download=False)
        extras = {e["key"]: e["value"] for e in shown["extras"]}
        assert shown["version"] == "1.0.0" and extras["identifier"] == f"kehoach-{plan_id}"


def test_a_plan_dataset_holds_only_its_plans_rows(corpus, local_ckan):
    _root, _paths, out, dataset, first = corpus
    corpus_tasks = pq.read_table(out / "data" / "tasks.parquet")
    corpus_shown = local_ckan.show(dataset)
    assert len(datastore_rows(local_ckan, resource(corpus_shown, "tasks")["id"])) == corpus_tasks.num_rows
    for plan_id, report in zip(plan_ids(out), first.plans, strict=True):
        shown = local_ckan.show(report.dataset)
        own = corpus_tasks.filter(corpus_tasks.column("plan_id").to_numpy(zero_copy_only=False) == plan_id)
        assert 0 < own.num_rows < corpus_tasks.num_rows
        rows = datastore_rows(local_ckan, resource(shown, "tasks")["id"])
        assert {r["plan_id"] for r in rows} == {plan_id}
        assert sorted(r["task_code"] for r in rows) == sorted(own.column("task_code").to_pylist())
        with httpx.Client(trust_env=False, timeout=60) as http:
            text = http.get(resource(shown, "plans")["url"]).text
        assert [r["plan_id"] for r in csv.DictReader(io.StringIO(text))] == [plan_id]


def test_an_amendment_updates_its_plan_dataset_and_the_corpus_only(corpus, local_ckan):
    root, paths, out, dataset, first = corpus
    ids = plan_ids(out)
    before = {p.dataset: local_ckan.show(p.dataset) for p in first.plans}
    again = to_ckan(local_ckan, out, dataset)
    assert not again.changed and again.writes == 0
    assert all(p.skipped for p in again.plans)

    text = paths[1].read_text(encoding="utf-8")
    assert AMENDED_TASK in text
    paths[1].write_text(text.replace(AMENDED_TASK, f"{AMENDED_TASK} (bổ sung)"), encoding="utf-8")
    assert build.run_build([root / "raw"], out, steps=UNVALIDATED).version == "1.1.0"
    report = to_ckan(local_ckan, out, dataset)

    amended, other = first.plans[1].dataset, first.plans[0].dataset
    by_name = {p.dataset: p for p in report.plans}
    assert report.changed and local_ckan.show(dataset)["version"] == "1.1.0"
    assert by_name[amended].changed and by_name[other].skipped and by_name[first.plans[2].dataset].skipped
    after = local_ckan.show(amended)
    assert after["version"] == "1.1.0" and after["metadata_modified"] > before[amended]["metadata_modified"]
    tasks = [r["name"] for r in datastore_rows(local_ckan, resource(after, "tasks")["id"])]
    assert f"{AMENDED_TASK} (bổ sung)" in tasks
    untouched = local_ckan.show(other)
    assert untouched["version"] == "1.0.0"
    assert untouched["metadata_modified"] == before[other]["metadata_modified"]
    assert [(r["id"], r["hash"], r["last_modified"]) for r in untouched["resources"]] == [
        (r["id"], r["hash"], r["last_modified"]) for r in before[other]["resources"]]
    assert ids[1] in amended


def test_a_plan_that_leaves_the_corpus_has_its_dataset_withdrawn_not_purged(corpus, local_ckan):
    root, paths, out, dataset, first = corpus
    gone, stays = first.plans[2].dataset, first.plans[0].dataset
    before = local_ckan.show(stays)
    text = paths[2].read_text(encoding="utf-8")
    paths[2].unlink()
    build.run_build([root / "raw"], out, steps=UNVALIDATED)
    report = to_ckan(local_ckan, out, dataset)
    assert report.withdrawn == [gone] and f"withdrawn (plan no longer in the corpus): {gone}" in report.summary()
    assert [p.dataset for p in report.plans] == [first.plans[0].dataset, first.plans[1].dataset]
    withdrawn = local_ckan.show(gone)  # a soft delete: still there for a sysadmin, with its resources
    assert withdrawn["state"] == "deleted" and withdrawn["version"] == "1.0.0" and withdrawn["resources"]
    with httpx.Client(trust_env=False, timeout=60) as anonymous:  # gone for the public
        assert anonymous.get(f"{local_ckan.url}/api/3/action/package_show", params={"id": gone}).status_code == 403
    assert local_ckan.show(stays)["metadata_modified"] == before["metadata_modified"]
    assert not to_ckan(local_ckan, out, dataset).withdrawn  # once

    paths[2].write_text(text, encoding="utf-8")  # the plan comes back: its dataset too
    build.run_build([root / "raw"], out, steps=UNVALIDATED)
    back = {p.dataset: p for p in to_ckan(local_ckan, out, dataset).plans}[gone]
    assert back.metadata == "updated" and not back.created
    restored = local_ckan.show(gone)
    assert restored["state"] == "active" and restored["version"] == "1.0.0"
