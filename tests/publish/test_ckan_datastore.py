"""The CKAN DataStore behind each table: typed rows, the data dictionary, a table view, no rewrite when unchanged."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from ckan_helpers import key
from helpers import change_table, copy_package, descriptor, trimmed_package

from kehoach.core.model import load_schema
from kehoach.package.layout import parquet_path
from kehoach.package.writer import write_descriptor
from kehoach.publish.ckan_client import CkanClient, Token
from kehoach.publish.ckan_datastore import (
    FIELDS_KEY,
    HASH_KEY,
    VIEW_TYPE,
    DatastoreSync,
    batches,
    datastore_sha256,
    fields_sha256,
)
from kehoach.publish.snapshot import open_package
from kehoach.publish.targets import publish

pytestmark = pytest.mark.ckan


@pytest.fixture(scope="module")
def org(local_ckan) -> str:
    """An organisation of this module: the session's own is first created by test_publish_ckan's first publish."""
    return local_ckan.organisation("datastore")


def to_ckan(ckan, package: Path, dataset: str, org: str, **options):
    return publish(package, "ckan", dataset=dataset, ckan_url=ckan.url, org=org, validate=False, **options)


def csv_tables(package: Path) -> list[str]:
    return [r["name"] for r in descriptor(package)["resources"] if r.get("format") == "csv" and "schema" in r]


def search(ckan, resource_id: str) -> dict:
    return ckan.action("datastore_search", resource_id=resource_id, limit=32000)


def resources(ckan, dataset: str) -> dict[str, dict]:
    return {key(r): r for r in ckan.show(dataset)["resources"]}


@pytest.fixture(autouse=True)
def token_from_file(monkeypatch, local_ckan):
    monkeypatch.delenv("CKAN_API_TOKEN", raising=False)
    monkeypatch.setenv("CKAN_API_TOKEN_FILE", str(local_ckan.token_file))


@pytest.fixture(scope="module")
def package(built_package, tmp_path_factory) -> Path:
    return trimmed_package(built_package, tmp_path_factory.mktemp("datastore") / "output")


@pytest.fixture(scope="module")
def pushed(local_ckan, package, org):
    dataset = local_ckan.dataset("datastore")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("CKAN_API_TOKEN", raising=False)
        mp.setenv("CKAN_API_TOKEN_FILE", str(local_ckan.token_file))
        report = to_ckan(local_ckan, package, dataset, org)
    print(f"first publish: {report.summary()}")
    return dataset, report


def test_every_table_is_pushed_with_its_rows(pushed, package):
    _, report = pushed
    rows = {r["name"]: r["rows"] for r in descriptor(package)["resources"] if r["name"] in csv_tables(package)}
    assert report.datastore == csv_tables(package) and report.datastore_rows == sum(rows.values())
    # every table's resource flagged datastore_active in one write (so that no create updates the whole
    # package); per table: create (one batch; no delete, the resource is new) and a table view; then every
    # table's recorded hash in one write
    assert report.datastore_writes == 1 + 2 * len(report.datastore) + 1


def test_money_is_a_number_equal_to_the_package_and_dates_are_dates(pushed, local_ckan, package):
    dataset, _ = pushed
    shown = resources(local_ckan, dataset)
    lines = search(local_ckan, shown["budget_lines"]["id"])
    types = {f["id"]: f["type"] for f in lines["fields"]}
    assert types["amount_million_vnd"] == "numeric" and types["source_line"] == "int8"
    assert types["item_code"] == "text"  # codes like '2.10' stay text
    expected = pq.read_table(package / parquet_path("budget_lines")).to_pylist()
    assert lines["total"] == len(expected)
    got = {(r["item_code"], r["budget_level"], r["expenditure_type"]): r for r in lines["records"]}
    for row in expected:
        record = got[(row["item_code"], row["budget_level"], row["expenditure_type"])]
        assert isinstance(record["amount_million_vnd"], int | float)
        assert Decimal(str(record["amount_million_vnd"])) == row["amount_million_vnd"]
    plans = search(local_ckan, shown["plans"]["id"])
    assert {f["id"]: f["type"] for f in plans["fields"]}["issued_date"] == "date"
    plan = pq.read_table(package / parquet_path("plans")).to_pylist()[0]
    assert date.fromisoformat(plans["records"][0]["issued_date"][:10]) == plan["issued_date"]


def test_the_data_dictionary_shows_the_schema_descriptions(pushed, local_ckan, package):
    dataset, _ = pushed
    shown = resources(local_ckan, dataset)
    for name in csv_tables(package):
        fields = {f["id"]: f for f in search(local_ckan, shown[name]["id"])["fields"] if f["id"] != "_id"}
        schema = load_schema(name)
        assert list(fields) == [f["name"] for f in schema["fields"]]
        for spec in schema["fields"]:
            info = fields[spec["name"]]["info"]
            assert spec["title"] in info["label"] and spec["title_vi"] in info["label"]
            assert spec["description"] in info["notes"] and spec["description_vi"] in info["notes"]


def test_each_table_has_a_table_view_and_its_hash(pushed, local_ckan, package):
    dataset, _ = pushed
    with open_package(package, validate=False) as snap:
        hashes = {f.key: datastore_sha256(f) for f in snap.files if f.key in csv_tables(package)}
    shown = resources(local_ckan, dataset)
    for name, digest in hashes.items():
        assert shown[name]["datastore_active"] is True and shown[name][HASH_KEY] == digest
        views = local_ckan.action("resource_view_list", id=shown[name]["id"])
        assert [v["view_type"] for v in views] == [VIEW_TYPE]


def test_republishing_writes_nothing(pushed, local_ckan, package, org):
    dataset, _ = pushed
    report = to_ckan(local_ckan, package, dataset, org)
    assert (report.writes, report.datastore_writes, report.datastore) == (0, 0, [])


def recording(actions: list[str]):
    """A client hook: the actions the publisher's client writes, in order."""
    return lambda client: client.after_write.append(actions.append)


def test_a_changed_table_is_replaced_whole(pushed, local_ckan, package, org, plan_tables, tmp_path):
    dataset, _ = pushed
    before = resources(local_ckan, dataset)["tasks"]
    changed = copy_package(package, tmp_path / "output")
    change_table(changed, plan_tables, "tasks")
    planned = to_ckan(local_ckan, changed, dataset, org, dry_run=True)
    actions: list[str] = []
    clients: list[CkanClient] = []

    def hook(client: CkanClient) -> None:
        clients.append(client)
        recording(actions)(client)

    report = to_ckan(local_ckan, changed, dataset, org, client_hook=hook)
    assert planned.datastore == report.datastore == ["tasks"]
    shown = resources(local_ckan, dataset)["tasks"]
    tasks = search(local_ckan, shown["id"])
    names = [r["name"] for r in tasks["records"]]
    expected = pq.read_table(changed / parquet_path("tasks")).column("name").to_pylist()
    assert sorted(names) == sorted(expected) and expected[0].endswith("(đã sửa)")
    # only the rows changed: they are deleted and inserted, the table kept (never made again, so CKAN
    # never turns its resource's datastore_active off and on) with its dictionary and its view
    assert "datastore_create" not in actions and actions.count("datastore_delete") == 1
    # user_show, organization_show, package_show, status_show: the table kept its view, not even listed
    assert clients[0].reads == 4
    assert actions.count("datastore_upsert") == len(list(batches(changed / "data" / "tasks.csv")))
    assert shown["datastore_active"] is True and shown[FIELDS_KEY] == before[FIELDS_KEY]
    assert local_ckan.action("resource_view_list", id=shown["id"]) == local_ckan.action(
        "resource_view_list", id=before["id"])
    assert to_ckan(local_ckan, changed, dataset, org).datastore_writes == 0


def test_a_table_whose_fields_changed_is_made_again(pushed, local_ckan, package, org, tmp_path):
    """A field's description is part of the table's data dictionary: the table is dropped and made
    again with the new one (its rows the same)."""
    dataset, _ = pushed
    changed = copy_package(package, tmp_path / "output")
    desc = descriptor(changed)
    tasks = next(r for r in desc["resources"] if r["name"] == "tasks")
    field = tasks["schema"]["fields"][1]
    field["description_vi"] = f"{field['description_vi']} (mô tả mới)"
    write_descriptor(changed, desc)
    actions: list[str] = []
    report = to_ckan(local_ckan, changed, dataset, org, client_hook=recording(actions))
    assert report.datastore == ["tasks"] and actions.count("datastore_create") == 1
    # the new files, then datastore_active off (one write for all such tables), the table dropped,
    # datastore_active on, the table made, the hashes: neither the drop nor the create updates the whole
    # package for its table (CKAN does when the flag it sets differs)
    assert actions == ["package_revise", "package_revise", "datastore_delete", "package_revise",
                       "datastore_create", "package_revise"]
    shown = resources(local_ckan, dataset)["tasks"]
    found = search(local_ckan, shown["id"])
    info = next(f["info"] for f in found["fields"] if f["id"] == field["name"])
    assert info["notes"].startswith(f"{field['description_vi']}\n\n")
    assert found["total"] == tasks["rows"]
    with open_package(changed, validate=False) as snap:
        assert shown[FIELDS_KEY] == fields_sha256(snap.file("tasks"))


def test_a_long_table_goes_in_batches(pushed, local_ckan, package):
    dataset, _ = pushed
    shown = resources(local_ckan, dataset)
    with open_package(package, validate=False) as snap:
        tasks = snap.file("tasks")
        rows = sum(len(b) for b in batches(snap.local(tasks)))
        size = rows // 3
        client = CkanClient(local_ckan.url, Token(local_ckan.token))
        try:
            sync = DatastoreSync(client, snap, lambda f: shown[f.key], lambda r: None, batch_rows=size)
            assert sync.push(tasks, shown["tasks"]) == rows
            sync.record()
        finally:
            client.close()
        # one delete (of the rows; of the table when the fields recorded are not the file's, as after the
        # test above), a write per batch, the hashes
        assert client.writes == 1 + len(list(batches(snap.local(tasks), size))) + 1
    assert search(local_ckan, shown["tasks"]["id"])["total"] == rows


def test_batches_keep_empty_cells_as_null(package):
    with open_package(package, validate=False) as snap:
        records = [r for b in batches(snap.local(snap.file("tasks")), 7) for r in b]
    assert "" not in {v for r in records for v in r.values()} and None in {v for r in records for v in r.values()}
