"""Publishing to a real CKAN 2.12 (scripts/ckan/local-ckan.sh), faults included.

No HTTP is mocked: faults are real (CKAN stopped and started again) or
injected in our own client after CKAN has answered (a response lost after
CKAN saved the write, a crash between two uploads).
"""

from __future__ import annotations

import html
import logging
import re
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from ckan_helpers import assert_published, key
from helpers import (
    add_file,
    change_table,
    copy_package,
    descriptor,
    remove_resource,
    trimmed_package,
)

from kehoach.core.errors import KehoachError
from kehoach.publish import ckan_client
from kehoach.publish.snapshot import DESCRIPTOR_KEY, ZIP_KEY
from kehoach.publish.targets import publish

pytestmark = pytest.mark.ckan


def keys(package: Path) -> list[str]:
    """The package's files in the order the dataset page lists them: the ZIP, the workbook, the
    landing page, then the rest in the package's order."""
    resources = descriptor(package)["resources"]
    first = [ZIP_KEY, *(r["name"] for r in resources if r.get("format") == "xlsx"),
             *(r["name"] for r in resources if r["path"] == "index.html")]
    return first + [k for k in [*(r["name"] for r in resources), DESCRIPTOR_KEY] if k not in first]


def to_ckan(ckan, package: Path, dataset: str, **options):
    options.setdefault("org", ckan.org)
    return publish(package, "ckan", dataset=dataset, ckan_url=ckan.url, validate=False, **options)


@pytest.fixture(scope="module")
def small_package(built_package, tmp_path_factory) -> Path:
    """Four tables: enough for the fault tests, which each publish a new dataset."""
    return trimmed_package(built_package, tmp_path_factory.mktemp("small") / "output")


@pytest.fixture(autouse=True)
def token_from_file(monkeypatch, local_ckan):
    monkeypatch.delenv("CKAN_API_TOKEN", raising=False)
    monkeypatch.setenv("CKAN_API_TOKEN_FILE", str(local_ckan.token_file))


@pytest.fixture(scope="module")
def first(local_ckan, built_package):
    """The session's main dataset, published once."""
    dataset = local_ckan.dataset("main")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("CKAN_API_TOKEN", raising=False)
        mp.setenv("CKAN_API_TOKEN_FILE", str(local_ckan.token_file))
        # the session's organisation is made by whichever test publishes first
        org_made = local_ckan.org not in local_ckan.action("organization_list")
        started = time.monotonic()
        report = to_ckan(local_ckan, built_package, dataset)
    print(f"first publish: {time.monotonic() - started:.1f} s, {report.writes} writes")
    return dataset, report, org_made


def test_first_publish_creates_the_dataset_with_every_resource(first, local_ckan, built_package):
    dataset, report, org_made = first
    assert report.metadata == "created" and report.created == keys(built_package)
    assert not report.updated and not report.deleted and not report.unchanged
    # the dataset, then every resource in one package_revise (and the organisation)
    assert report.writes == 1 + 1 + org_made
    shown = assert_published(local_ckan, dataset, built_package)  # downloads byte-identical
    desc = descriptor(built_package)
    extras = {e["key"]: e["value"] for e in shown["extras"]}
    assert shown["organization"]["name"] == local_ckan.org and shown["private"] is False
    assert shown["title"] == desc["title"] and shown["version"] == desc["version"]
    assert desc["description_vi"] in shown["notes"] and desc["description_en"] in shown["notes"]
    assert shown["license_id"] == "cc-by" and shown["license_title"] == "Creative Commons Attribution"
    assert {t["name"] for t in shown["tags"]} == set(desc["keywords"])
    assert extras["plan_number"] == "219/KH-UBND" and extras["title_en"] == desc["title_en"]
    assert extras["source_sha256"] == desc["sources"][0]["hash"].removeprefix("sha256:")
    tasks = next(r for r in shown["resources"] if key(r) == "tasks")
    assert tasks["name"] == "Nhiệm vụ và phân công / Tasks and assignments (CSV)"
    assert tasks["format"] == "CSV" and tasks["rows"] == "74" and "Nhiệm vụ" in tasks["description"]
    assert tasks["url"].endswith("/download/tasks.csv")


def test_second_publish_makes_no_writes(first, local_ckan, built_package):
    dataset, *_ = first
    clients = []
    started = time.monotonic()
    report = to_ckan(local_ckan, built_package, dataset, client_hook=clients.append)
    print(f"no-op publish: {time.monotonic() - started:.2f} s")
    assert report.writes == 0 and not report.changed
    assert report.unchanged == keys(built_package)
    assert report.summary().endswith(f"unchanged ({len(report.unchanged)} files, no writes)")
    assert clients[0].reads == 3  # user_show, organization_show, package_show


def test_changed_table_reuploads_only_its_resources(first, local_ckan, built_package, plan_tables, tmp_path):
    dataset, *_ = first
    package = copy_package(built_package, tmp_path / "output")
    shown = local_ckan.show(dataset)["resources"]
    before = {r["name"]: r["id"] for r in shown}
    uploaded = {key(r): r["last_modified"] for r in shown}
    change_table(package, plan_tables, "tasks")
    clients = []
    planned = to_ckan(local_ckan, package, dataset, dry_run=True, client_hook=clients.append)
    assert clients[0].writes == 0 and "would publish" in planned.summary()
    report = to_ckan(local_ckan, package, dataset)
    assert (report.updated, report.unchanged) == (planned.updated, planned.unchanged)
    assert sorted(report.updated) == sorted(["tasks", "tasks-parquet", DESCRIPTOR_KEY, ZIP_KEY])
    assert not report.created and not report.deleted
    assert report.writes == 1  # the four files re-uploaded in one package_revise
    # the re-uploaded files are served byte-identical; the others were not uploaded again (their
    # downloads were compared by the first test)
    after = assert_published(local_ckan, dataset, package, download=report.updated)["resources"]
    assert {key(r) for r in after if r["last_modified"] != uploaded[key(r)]} == set(report.updated)
    assert {r["name"]: r["id"] for r in after} == before  # replaced in place
    assert to_ckan(local_ckan, package, dataset).writes == 0


def test_a_file_that_left_the_package_is_deleted_and_foreign_resources_stay(local_ckan, small_package, tmp_path):
    dataset = local_ckan.dataset("leaving")
    package = copy_package(small_package, tmp_path / "output")
    add_file(package, "notes", "extra/notes.txt", b"notes\n")
    assert "notes" in to_ckan(local_ckan, package, dataset).created
    shown = local_ckan.show(dataset)
    local_ckan.action("resource_create", package_id=shown["id"], name="added-by-hand", url="https://example.org/x")
    remove_resource(package, "notes")
    report = to_ckan(local_ckan, package, dataset)
    assert report.deleted == ["notes"] and sorted(report.updated) == sorted([DESCRIPTOR_KEY, ZIP_KEY])
    names = [key(r) for r in local_ckan.show(dataset)["resources"]]
    assert "notes" not in names and "added-by-hand" in names
    assert_published(local_ckan, dataset, package)


def test_ckan_stopped_mid_run_then_restarted_ends_consistent(local_ckan, small_package):
    dataset = local_ckan.dataset("outage")
    restart: list[threading.Thread] = []

    def stop_after_the_uploads(client):
        writes = []

        def after(action):
            writes.append(action)
            # every file is up (one package_revise): the DataStore and the hashes meet a stopped CKAN
            if writes.count("package_revise") == 1 and not restart:
                local_ckan.stop()  # really down: the next requests are refused
                restart.append(threading.Thread(target=local_ckan.start))
                restart[0].start()

        client.after_write.append(after)

    started = time.monotonic()
    report = to_ckan(local_ckan, small_package, dataset, client_hook=stop_after_the_uploads, retry_deadline=180)
    restart[0].join()
    print(f"publish through a CKAN restart: {time.monotonic() - started:.1f} s, {report.retries} retries")
    assert report.retries >= 1
    assert report.created == keys(small_package) and report.metadata == "created"
    assert_published(local_ckan, dataset, small_package)
    assert to_ckan(local_ckan, small_package, dataset).writes == 0


def test_writes_saved_but_answered_with_errors_are_not_repeated(local_ckan, small_package):
    """CKAN can save a create and then fail (500, dropped connection): look before trying again."""
    dataset = local_ckan.dataset("lost")
    org = local_ckan.organisation("lost")
    lost = {"organization_create": 1, "package_create": 1, "package_revise": 1}  # the last: every file

    def lose_responses(client):
        seen: dict[str, int] = {}

        def after(action):
            seen[action] = seen.get(action, 0) + 1
            if lost.get(action) == seen[action]:
                raise ckan_client.Transient(f"{action}: simulated lost response")

        client.after_write.append(after)

    report = to_ckan(local_ckan, small_package, dataset, org=org, client_hook=lose_responses)
    assert report.retries == 3
    assert report.created == keys(small_package) and report.metadata == "created"
    assert report.writes == 3  # nothing was written twice: organisation, dataset, its resources
    assert_published(local_ckan, dataset, small_package)
    assert local_ckan.show(dataset)["organization"]["name"] == org


def test_a_run_interrupted_half_way_and_run_again_equals_a_clean_run(local_ckan, small_package):
    dataset = local_ckan.dataset("crash")
    tables = [r["name"] for r in descriptor(small_package)["resources"] if r.get("format") == "csv" and "schema" in r]

    def crash_after_the_first_revise(client):
        def after(action):
            if action == "package_revise":
                raise RuntimeError("simulated crash")

        client.after_write.append(after)

    with pytest.raises(RuntimeError, match="simulated crash"):  # every file is up (one call), no table yet
        to_ckan(local_ckan, small_package, dataset, client_hook=crash_after_the_first_revise)
    shown = local_ckan.show(dataset)
    assert len(shown["resources"]) == len(keys(small_package))
    assert not any(r.get("datastore_active") for r in shown["resources"])
    with pytest.raises(RuntimeError, match="simulated crash"):  # the files are up: the tables flagged, none made
        to_ckan(local_ckan, small_package, dataset, client_hook=crash_after_the_first_revise)
    flagged = [r for r in local_ckan.show(dataset)["resources"] if r.get("datastore_active")]
    assert tables and [key(r) for r in flagged] == tables
    with local_ckan.api() as client:
        assert client.post("datastore_search", json={"resource_id": flagged[0]["id"]}).status_code == 404
    report = to_ckan(local_ckan, small_package, dataset)
    assert report.unchanged == keys(small_package) and not report.created
    assert report.datastore == tables  # what the crashes stopped is done now
    assert_published(local_ckan, dataset, small_package)
    assert to_ckan(local_ckan, small_package, dataset).writes == 0


def test_a_wrong_token_fails_clearly_without_leaking_it(local_ckan, built_package, monkeypatch, capsys, caplog):
    secret = f"wrong-{uuid.uuid4().hex}{uuid.uuid4().hex}"
    monkeypatch.setenv("CKAN_API_TOKEN", secret)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(KehoachError) as err:
        to_ckan(local_ckan, built_package, local_ckan.dataset("wrong-token"))
    message = str(err.value)
    assert message.startswith(f"CKAN at {local_ckan.url} did not accept the API token")
    captured = capsys.readouterr()
    for text in (message, repr(err.value), captured.out, captured.err, caplog.text):
        assert secret not in text


@pytest.fixture
def org_exists(local_ckan) -> None:
    with local_ckan.api() as client:
        if client.get("organization_show", params={"id": local_ckan.org}).status_code == 404:
            local_ckan.action("organization_create", name=local_ckan.org)


def test_a_token_without_permission_fails_naming_the_dataset(local_ckan, built_package, org_exists, monkeypatch):
    user = f"kht-{local_ckan.run}-{uuid.uuid4().hex[:6]}"
    local_ckan.action("user_create", name=user, email=f"{user}@example.org", password=uuid.uuid4().hex + "Aa1!")
    try:
        token = local_ckan.action("api_token_create", user=user, name="test")["token"]
        monkeypatch.setenv("CKAN_API_TOKEN", token)
        dataset = local_ckan.dataset("no-permission")
        with pytest.raises(KehoachError) as err:
            to_ckan(local_ckan, built_package, dataset)
        assert f"CKAN refused package_create for dataset {dataset!r} (HTTP 403 Authorization Error" in str(err.value)
        assert token not in str(err.value)
    finally:
        local_ckan.action("user_delete", id=user)


def test_a_file_over_the_upload_limit_fails_naming_it_and_a_fixed_package_converges(
        local_ckan, small_package, tmp_path):
    dataset = local_ckan.dataset("too-large")
    package = copy_package(small_package, tmp_path / "output")
    add_file(package, "big-file", "extra/big.bin", bytes(local_ckan.max_upload_mb * 1024 * 1024 + 1))
    with pytest.raises(KehoachError) as err:
        to_ckan(local_ckan, package, dataset)
    message = str(err.value)
    assert message.startswith(f"{package / 'extra' / 'big.bin'}: CKAN rejected the upload of resource 'big-file'")
    assert "over the portal's upload limit" in message and "File upload too large" in message
    assert "big-file" not in [key(r) for r in local_ckan.show(dataset)["resources"]]  # no partial junk
    remove_resource(package, "big-file")
    report = to_ckan(local_ckan, package, dataset)
    # the ZIP, listed first, went up before the failure: it is replaced by the fixed package's
    assert report.created == [DESCRIPTOR_KEY] and report.updated == [ZIP_KEY] and not report.deleted
    assert_published(local_ckan, dataset, package)


@pytest.mark.prefect
def test_cli_publishes_through_the_prefect_flow(prefect_harness, local_ckan, small_package, tmp_path, monkeypatch,
                                                capsys, caplog):
    """`kehoach publish --target ckan` with the token in a Prefect Secret block: publish, no-op, then a
    package with a file over the upload limit exits 2 with one line; the token shows up nowhere.
    (The small package: every resource of the whole one is checked by the first test.)"""
    from prefect.blocks.system import Secret

    from flows import cli

    token = local_ckan.token
    block = f"kht-{local_ckan.run}-token"
    Secret(value=token).save(block, overwrite=True)
    for var in ("CKAN_API_TOKEN", "CKAN_API_TOKEN_FILE", "CKAN_URL"):
        monkeypatch.delenv(var, raising=False)
    caplog.set_level(logging.DEBUG)
    dataset = local_ckan.dataset("cli")
    common = ["--target", "ckan", "--ckan-url", local_ckan.url, "--org", local_ckan.org, "--dataset", dataset,
              "--token-block", block]
    assert cli.main(["publish", "--out", str(small_package), *common]) == 0
    assert cli.main(["publish", "--out", str(small_package), *common]) == 0
    first = capsys.readouterr()
    summaries = [line for line in first.out.splitlines() if line.startswith(f"{local_ckan.url}/dataset/{dataset}:")]
    assert " published: " in summaries[0]
    assert summaries[-1].endswith(f"unchanged ({len(keys(small_package))} files, no writes)")
    assert_published(local_ckan, dataset, small_package, download=False)  # downloads: see the first test

    package = copy_package(small_package, tmp_path / "output")
    add_file(package, "big-file", "extra/big.bin", bytes(local_ckan.max_upload_mb * 1024 * 1024 + 1))
    assert cli.main(["publish", "--out", str(package), *common]) == 2
    failed = capsys.readouterr()
    # The CLI's own line comes last (in a real run it is the only one: flows/logging.yml drops
    # Prefect's report of the failure, but this test process configured Prefect's logging earlier).
    line = failed.err.splitlines()[-1]
    assert line.startswith(f"{package / 'extra' / 'big.bin'}: CKAN rejected the upload of resource 'big-file'")
    assert "upload limit" in line
    for text in (first.out, first.err, failed.out, failed.err, caplog.text):
        assert token not in text
    for path in [*package.rglob("*"), *small_package.rglob("*")]:
        assert not path.is_file() or token.encode() not in path.read_bytes()


CHROMIUM = Path("/usr/bin/chromium")


def rendered(url: str, profile: Path) -> str:
    """The page as headless Chromium renders it (the DOM after its scripts ran)."""
    assert CHROMIUM.is_file(), "chromium is missing: `make browser` installs it"
    return subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--disable-background-networking", f"--user-data-dir={profile}", "--dump-dom", url],
                          capture_output=True, text=True, timeout=120, check=True).stdout


@pytest.mark.browser
def test_the_dataset_page_in_ckan_reads_in_words_checked_in_chromium(first, local_ckan, built_package, tmp_path):
    dataset, *_ = first
    shown = local_ckan.show(dataset)
    page = html.unescape(rendered(f"{local_ckan.url}/dataset/{dataset}", tmp_path / "profile"))
    listed = re.findall(r'class="heading"[^>]*aria-label="Navigate to resource: ([^"]+)"', page)
    names = [r["name"] for r in shown["resources"]]
    assert listed == names and len(listed) == len(keys(built_package))
    assert listed[0] == "Toàn bộ gói dữ liệu (ZIP) / The whole data package (ZIP)"
    assert listed[1].endswith("(XLSX)") and listed[2].endswith("(HTML)")
    assert [key(r) for r in shown["resources"][:3]] == keys(built_package)[:3]
    assert all(not re.fullmatch(r"[a-z0-9-]+", n) for n in listed), "every resource is named in words"
    tasks = next(r for r in shown["resources"] if key(r) == "tasks")
    resource_page = rendered(f"{local_ckan.url}/dataset/{dataset}/resource/{tasks['id']}", tmp_path / "profile2")
    # the fields are a list, not one paragraph
    assert re.search(r"<li><code>plan_id</code> \(string\)", resource_page), "Cột / Fields is not a list"


@pytest.mark.browser
def test_the_organisation_is_made_from_the_publisher_settings(local_ckan, small_package, monkeypatch, tmp_path):
    org = local_ckan.organisation("described")
    settings = {"KEHOACH_PUBLISHER": "Cổng dữ liệu mở thử nghiệm",
                "KEHOACH_PUBLISHER_DESCRIPTION": "Dữ liệu mở từ các văn bản kế hoạch của tỉnh.",
                "KEHOACH_PUBLISHER_IMAGE": f"{local_ckan.url}/base/images/ckan-logo.png"}
    for variable, value in settings.items():
        monkeypatch.setenv(variable, value)
    dataset = local_ckan.dataset("described")
    to_ckan(local_ckan, small_package, dataset, org=org, plans=False)
    shown = local_ckan.action("organization_show", id=org)
    assert (shown["title"], shown["description"], shown["image_url"]) == (
        settings["KEHOACH_PUBLISHER"], settings["KEHOACH_PUBLISHER_DESCRIPTION"], settings["KEHOACH_PUBLISHER_IMAGE"])
    page = html.unescape(rendered(f"{local_ckan.url}/organization/{org}", tmp_path / "profile"))
    assert settings["KEHOACH_PUBLISHER"] in page and settings["KEHOACH_PUBLISHER_DESCRIPTION"] in page
    again = to_ckan(local_ckan, small_package, dataset, org=org, plans=False)
    assert again.writes == 0  # the organisation says so already
