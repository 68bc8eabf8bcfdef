"""Publishing to the local portal folder, the checks before publishing, and the CKAN field
mapping as plain functions (no CKAN, no Prefect server)."""

from __future__ import annotations

import html
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import add_file, change_table, copy_package, descriptor, rehash

from flows import cli
from kehoach.core.errors import KehoachError
from kehoach.core.files import sha256_file
from kehoach.core.paths import DEFAULT_PORTAL
from kehoach.core.settings import settings
from kehoach.publish import ckan_client, ckan_fields
from kehoach.publish.snapshot import ZIP_KEY, check_name, check_package, open_package, slug_name, zip_time
from kehoach.publish.targets import local_address_warning, publish, resolve_target

NAME = "kehoach-quang-ngai-219-kh-ubnd-2023"


@pytest.fixture
def package(tmp_path, built_package) -> Path:
    return copy_package(built_package, tmp_path / "output")


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under root with its inode and mtime: unchanged when nothing was written."""
    return {p.relative_to(root).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


# ------------------------------------------------------------ the folder ---

def test_first_publish_lays_out_the_package_zip_and_catalog(package, tmp_path):
    portal = tmp_path / "portal"
    report = publish(package, portal)
    assert report.target == "folder" and report.dataset == NAME and report.version == "1.0.0"
    assert report.metadata == "created" and report.writes > 0 and not report.updated
    home = portal / NAME
    desc = descriptor(package)
    for r in desc["resources"]:
        assert (home / r["path"]).read_bytes() == (package / r["path"]).read_bytes()
    assert (home / "datapackage.json").read_bytes() == (package / "datapackage.json").read_bytes()
    archive = home / f"{NAME}-1.0.0.zip"
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        assert names[0] == "datapackage.json"
        assert set(names) == {"datapackage.json", *(r["path"] for r in desc["resources"])}
        assert z.read("data/tasks.csv") == (package / "data/tasks.csv").read_bytes()
    catalog = json.loads((portal / "catalog.json").read_text(encoding="utf-8"))
    entry = catalog["datasets"][0]
    assert entry["name"] == NAME and entry["version"] == "1.0.0"
    assert entry["zip"]["path"] == f"{NAME}/{NAME}-1.0.0.zip" and entry["zip"]["sha256"] == sha256_file(archive)
    assert entry["title_vi"] == desc["title_vi"] and entry["title_en"] == desc["title_en"]
    ld = json.loads((portal / "catalog.jsonld").read_text(encoding="utf-8"))
    dataset = ld["dcat:dataset"][0]
    assert dataset["@id"] == f"{NAME}/" and dataset["dct:temporal"]["dcat:startDate"]["@value"] == "2024-01-01"
    tasks = next(d for d in dataset["dcat:distribution"] if d["dct:identifier"] == "tasks")
    assert tasks["dcat:downloadURL"] == {"@id": f"{NAME}/data/tasks.csv"}
    assert tasks["spdx:checksum"]["spdx:checksumValue"] == sha256_file(package / "data/tasks.csv")
    own = json.loads((home / "dataset.jsonld").read_text(encoding="utf-8"))
    assert own["@id"] == "./" and own["dcat:distribution"][0]["dcat:downloadURL"]["@id"].startswith("data/")
    assert not [p for p in tmp_path.iterdir() if ".publish-" in p.name or ".staging" in p.name]


def test_the_zip_opens_as_a_data_package(package, tmp_path):
    from frictionless import Package

    publish(package, tmp_path / "portal", validate=False)
    archive = tmp_path / "portal" / NAME / f"{NAME}-1.0.0.zip"
    opened = Package(str(archive))
    assert opened.get_resource("tasks").read_rows()[0]["task_code"] == "1.1"


def test_unchanged_package_writes_nothing_and_says_so(package, tmp_path):
    portal = tmp_path / "portal"
    publish(package, portal, validate=False)
    before = tree(portal)
    report = publish(package, portal, validate=False)
    assert report.writes == 0 and not report.changed
    files = len(descriptor(package)["resources"]) + 3  # + datapackage.json, the zip, dataset.jsonld
    assert report.summary().endswith(f"unchanged ({files} files, no writes)")
    assert tree(portal) == before


def test_zip_is_byte_identical_for_the_same_package(package):
    with open_package(package, validate=False) as first:
        one = first.local(first.file(ZIP_KEY)).read_bytes()
    os.utime(package / "data" / "tasks.csv", (0, 0))  # file times must not matter
    with open_package(package, validate=False) as second:
        two = second.local(second.file(ZIP_KEY)).read_bytes()
    assert one == two
    info = zipfile.ZipFile(io.BytesIO(one)).infolist()[0]
    assert info.date_time == zip_time(descriptor(package)["created"])


def test_changed_table_replaces_only_its_files(package, tmp_path, plan_tables):
    portal = tmp_path / "portal"
    publish(package, portal, validate=False)
    published = (portal / NAME / "data/tasks.csv").read_bytes()
    change_table(package, plan_tables)  # rewrites the package's files in place
    assert (portal / NAME / "data/tasks.csv").read_bytes() == published  # the portal holds copies
    report = publish(package, portal)
    assert sorted(report.updated) == sorted(["data/tasks.csv", "data/tasks.parquet", "datapackage.json",
                                             "dataset.jsonld", f"{NAME}-1.0.0.zip"])
    assert not report.created and not report.deleted and report.metadata == "updated"
    assert (portal / NAME / "data/tasks.csv").read_bytes() == (package / "data/tasks.csv").read_bytes()


def test_a_file_that_left_the_package_leaves_the_portal(package, tmp_path):
    portal = tmp_path / "portal"
    add_file(package, "notes", "extra/notes.txt", b"hello\n")
    assert publish(package, portal, validate=False).created.count("extra/notes.txt") == 1
    desc = descriptor(package)
    desc["resources"] = [r for r in desc["resources"] if r["name"] != "notes"]
    rehash(package, desc, [])
    report = publish(package, portal, validate=False)
    assert report.deleted == ["extra/notes.txt"]
    assert not (portal / NAME / "extra" / "notes.txt").exists()


def test_two_datasets_share_the_catalog(package, tmp_path):
    portal = tmp_path / "portal"
    publish(package, portal, validate=False)
    publish(package, portal, dataset="second-copy", validate=False)
    catalog = json.loads((portal / "catalog.json").read_text(encoding="utf-8"))
    assert [d["name"] for d in catalog["datasets"]] == [NAME, "second-copy"]
    ld = json.loads((portal / "catalog.jsonld").read_text(encoding="utf-8"))
    assert [d["@id"] for d in ld["dcat:dataset"]] == [f"{NAME}/", "second-copy/"]
    assert publish(package, portal, validate=False).writes == 0


def test_dry_run_writes_nothing(package, tmp_path):
    report = publish(package, tmp_path / "portal", dry_run=True, validate=False)
    assert report.dry_run and report.created and "would publish" in report.summary()
    assert not (tmp_path / "portal" / NAME).exists()


# --------------------------------------------- nothing invalid is published ---

def test_a_file_changed_after_the_build_is_not_published(package, tmp_path):
    with (package / "data" / "plans.csv").open("a", encoding="utf-8") as handle:
        handle.write("\n")
    with pytest.raises(KehoachError) as err:
        publish(package, tmp_path / "portal")
    assert str(err.value).startswith(f"{package / 'data' / 'plans.csv'}: resource 'plans':")
    assert "does not match" in str(err.value) or "bytes" in str(err.value)
    assert not (tmp_path / "portal").exists() or not any((tmp_path / "portal").iterdir())


def test_a_package_failing_validation_is_not_published(package, tmp_path):
    path = package / "data" / "tasks.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[1] = lines[1].rsplit(",", 1)[0] + ",not-a-line-number"
    path.write_text("\n".join(lines), encoding="utf-8")
    rehash(package, descriptor(package), ["tasks"])
    with pytest.raises(KehoachError) as err:
        publish(package, tmp_path / "portal")
    assert "not published: package is invalid" in str(err.value) and "'tasks'" in str(err.value)
    assert ".publish-" not in str(err.value)
    assert not (tmp_path / "portal" / NAME).exists()


def test_a_symbolic_link_in_the_output_is_not_published(package, tmp_path):
    outside = tmp_path / "outside.csv"
    data = package / "data" / "plans.csv"
    outside.write_bytes(data.read_bytes())  # same bytes, so every hash still matches
    data.unlink()
    data.symlink_to(outside)
    for check in (check_package, lambda out: publish(out, tmp_path / "portal")):
        with pytest.raises(KehoachError, match="symbolic link inside the output") as err:
            check(package)
        assert err.value.path == str(data)
    assert not (tmp_path / "portal").exists()
    data.unlink()
    data.write_bytes(outside.read_bytes())
    linked = tmp_path / "linked-output"
    linked.symlink_to(package)
    with pytest.raises(KehoachError, match="is a symbolic link"):
        publish(linked, tmp_path / "portal")
    assert not (tmp_path / "portal").exists()


def test_missing_package_and_missing_file_are_located(tmp_path, package):
    with pytest.raises(KehoachError, match="no data package here"):
        check_package(tmp_path / "nothing")
    (package / "data" / "pillars.parquet").unlink()
    with pytest.raises(KehoachError, match="resource 'pillars-parquet': file missing"):
        check_package(package)


def test_unsafe_paths_are_refused(package):
    desc = descriptor(package)
    desc["resources"][0]["path"] = "../elsewhere.csv"  # path as data, not read
    (package / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    with pytest.raises(KehoachError, match="not a relative path inside the package"):
        check_package(package)


# ------------------------------------------------------ names and targets ---

def test_dataset_names_follow_ckan_rules():
    assert slug_name("Kehoach.Quang-Ngai 219/KH") == "kehoach-quang-ngai-219-kh"
    assert len(slug_name("x" * 300)) == 100
    with pytest.raises(KehoachError):
        slug_name("!")
    assert check_name("ok_name-2", "dataset name") == "ok_name-2"
    for bad in ("Upper", "a", "dots.no", "x" * 101):
        with pytest.raises(KehoachError, match="2-100 characters"):
            check_name(bad, "dataset name")


def test_target_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("KEHOACH_PUBLISH_TARGET", raising=False)
    assert resolve_target(None) == DEFAULT_PORTAL
    assert resolve_target("CKAN") == "ckan"
    assert resolve_target(tmp_path) == tmp_path
    monkeypatch.setenv("KEHOACH_PUBLISH_TARGET", "ckan")
    assert resolve_target(None) == "ckan"


# -------------------------------------------------------- the CKAN mapping ---

def test_token_sources_and_masking(monkeypatch, tmp_path):
    secret = "tok-" + "s3cr3t" * 5
    monkeypatch.setenv("CKAN_API_TOKEN", secret)
    token = ckan_client.token_from_env()
    assert token.reveal() == secret and secret not in repr(token) and secret not in f"{token}"
    monkeypatch.delenv("CKAN_API_TOKEN")
    (tmp_path / "tok").write_text(secret + "\n", encoding="utf-8")
    monkeypatch.setenv("CKAN_API_TOKEN_FILE", str(tmp_path / "tok"))
    assert ckan_client.token_from_env().reveal() == secret
    monkeypatch.setenv("CKAN_API_TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(KehoachError, match="cannot read the CKAN API token file"):
        ckan_client.token_from_env()
    monkeypatch.delenv("CKAN_API_TOKEN_FILE")
    with pytest.raises(KehoachError, match="no CKAN API token"):
        ckan_client.token_from_env()


def test_ckan_settings_are_checked_before_any_request(monkeypatch):
    monkeypatch.delenv("CKAN_URL", raising=False)
    monkeypatch.setenv("CKAN_API_TOKEN", "x" * 30)
    with pytest.raises(KehoachError, match="set CKAN_URL"):
        ckan_client.settings().check()
    with pytest.raises(KehoachError, match="not an http"):
        ckan_client.settings(ckan_url="ftp://portal").check()
    with pytest.raises(KehoachError, match=r"organisation name 'Bad\.Org'"):
        ckan_client.settings(ckan_url="http://portal", org="Bad.Org").check()
    assert ckan_client.settings(ckan_url="http://portal/").url == "http://portal"
    assert ckan_client.settings(ckan_url="http://portal").org == os.environ.get("CKAN_ORGANIZATION", "kehoach")


def test_dataset_fields_map_the_package_for_dcat(package):
    from kehoach.publish.metadata import dataset_meta

    with open_package(package, validate=False) as snap:
        meta = dataset_meta(snap)
        fields = ckan_fields.dataset_fields(meta, "my-dataset", "org-id")
        tasks = ckan_fields.resource_fields(snap.file("tasks"))
    desc = descriptor(package)
    extras = {e["key"]: e["value"] for e in fields["extras"]}
    assert fields["name"] == "my-dataset" and fields["owner_org"] == "org-id" and fields["private"] is False
    assert fields["title"] == desc["title"] and fields["license_id"] == "cc-by" and fields["version"] == "1.0.0"
    assert desc["description_vi"] in fields["notes"] and desc["description_en"] in fields["notes"]
    assert {t["name"] for t in fields["tags"]} >= {"chuyển đổi số", "open data"}
    assert extras["title_vi"] == desc["title_vi"] and extras["title_en"] == desc["title_en"]
    assert extras["plan_number"] == "219/KH-UBND" and extras["plan_issued_date"] == "2023-12-20"
    assert extras["plan_issuer"] == "Ủy ban nhân dân tỉnh Quảng Ngãi"
    assert extras["temporal_start"] == "2024-01-01" and extras["temporal_end"] == "2024-12-31"
    assert extras["source_sha256"] == desc["sources"][0]["hash"].removeprefix("sha256:")
    # DCAT-AP 3.0 (issue 13): languages are the EU language IRIs, no longer the codes "vi", "en"
    assert extras["modified"] == desc["created"] and json.loads(extras["language"]) == [
        "http://publications.europa.eu/resource/authority/language/VIE",
        "http://publications.europa.eu/resource/authority/language/ENG"]
    assert tasks["kehoach_key"] == "tasks" and tasks["format"] == "CSV" and tasks["rows"] == "74"
    assert tasks["hash"] == sha256_file(package / "data/tasks.csv") and tasks["kehoach_managed"] == "true"
    assert "Nhiệm vụ và phân công" in tasks["description"] and "`deadline_kind` (string)" in tasks["description"]
    assert json.loads(tasks["schema"])["primaryKey"] == ["plan_id", "task_code"]


def test_dataset_patch_keeps_foreign_extras_and_sees_no_change_when_equal(package):
    from kehoach.publish.metadata import dataset_meta

    with open_package(package, validate=False) as snap:
        desired = ckan_fields.dataset_fields(dataset_meta(snap), "ds", "org")
    current = json.loads(json.dumps(desired))
    current["extras"].append({"key": "portal_note", "value": "added by a portal editor"})
    current["tags"].reverse()
    assert desired["maintainer_email"] == ""  # the default publisher has no e-mail: CKAN gives None back
    current["maintainer_email"] = None
    assert ckan_fields.dataset_patch(current, desired) == {}
    current["version"] = "0.9"
    current["extras"] = [e for e in current["extras"] if e["key"] != "plan_number"]
    patch = ckan_fields.dataset_patch(current, desired)
    assert patch["version"] == "1.0.0"
    keys = [e["key"] for e in patch["extras"]]
    assert "portal_note" in keys and "plan_number" in keys
    current["state"] = "deleted"
    assert ckan_fields.dataset_patch(current, desired)["state"] == "active"


def test_tags_are_made_ckan_safe():
    assert ckan_fields.tags(["chuyển đổi số", "a", "R&D / ICT", "open data", "open data"]) == [
        "chuyển đổi số", "R D ICT", "open data"]


# ------------------------------------------------------------------ CLI ---

def test_cli_refuses_a_missing_package_before_starting_prefect(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "publish", "--out", str(tmp_path / "none"), "--target", str(tmp_path)],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert result.returncode == 2, result.stderr
    where = tmp_path / "none" / "datapackage.json"
    assert result.stderr == f"{where}: no data package here (run 'kehoach build' first)\n"
    assert "Traceback" not in result.stdout + result.stderr


def test_cli_refuses_ckan_without_configuration(built_package, monkeypatch, capsys):
    # in this process, as the CLI's other refusals before Prefect (a process of its own costs 6 s of CPU,
    # its imports; the one above keeps the command's own process)
    for variable in [k for k in os.environ if k.startswith("CKAN_")]:
        monkeypatch.delenv(variable)
    assert cli.main(["publish", "--out", str(built_package), "--target", "ckan"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("the CKAN target needs the portal's address: set CKAN_URL")
    assert err.count("\n") == 1


@pytest.mark.prefect
def test_build_flow_can_publish_to_the_portal_folder(prefect_harness, plan_path, tmp_path):
    from flows.pipeline import build_package

    result = build_package(sources=[str(plan_path)], out=str(tmp_path / "output"), publish_to=str(tmp_path / "portal"))
    assert result.notes[-1].startswith(f"{tmp_path / 'portal' / NAME}: {NAME} {result.version} published:")
    assert (tmp_path / "portal" / NAME / "datapackage.json").read_bytes() == (
        tmp_path / "output" / "datapackage.json").read_bytes()


def _refused(args: list[str], capsys) -> str:
    """What the CLI says, in this process, refusing ``args`` (exit 2, one line)."""
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def test_ckan_is_refused_the_local_default_portal_url_in_the_settings_or_in_the_package(package, monkeypatch, capsys):
    monkeypatch.delenv("KEHOACH_PORTAL_URL")
    monkeypatch.setenv("CKAN_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CKAN_API_TOKEN", "not-used")
    said = _refused(["publish", "--out", str(package), "--target", "ckan"], capsys)
    assert said.startswith("CKAN: the portal URL is the local default http://127.0.0.1:8000/ "
                           "(KEHOACH_PORTAL_URL is not set)")
    # a package built with the default, published once the setting is right: its id is still local
    desc = descriptor(package)
    desc["id"] = f"http://127.0.0.1:8000/{desc['name']}/"
    (package / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("KEHOACH_PORTAL_URL", "https://x.example/")
    said = _refused(["publish", "--out", str(package), "--target", "ckan"], capsys)
    assert said.startswith(f"{package / 'datapackage.json'}: CKAN: the package's id is http://127.0.0.1:8000/")
    with pytest.raises(KehoachError, match="under the local default portal URL"):
        publish(package, "ckan", ckan_url="http://127.0.0.1:9")


def test_the_local_default_portal_url_is_warned_about(monkeypatch):
    monkeypatch.delenv("KEHOACH_PORTAL_URL")
    assert local_address_warning() == (
        "warning: the portal URL is the local default http://127.0.0.1:8000/ (KEHOACH_PORTAL_URL is not set): "
        "a package published there cites an address only this machine opens; set KEHOACH_PORTAL_URL to the "
        "portal's public address")
    monkeypatch.setenv("KEHOACH_PORTAL_URL", "https://data.example.gov.vn")
    assert local_address_warning() is None


def test_cli_validate_checks_a_package_and_locates_what_is_wrong(package, capsys):
    assert cli.main(["validate", str(package)]) == 0
    tables = [r for r in descriptor(package)["resources"] if "schema" in r]
    assert capsys.readouterr().out == (f"{package}: valid ({len(tables)} tables, "
                                       f"{sum(r['rows'] for r in tables)} rows)\n")
    csv = package / "data" / "tasks.csv"
    csv.write_bytes(csv.read_bytes().replace(b"\n", b"\r\n", 1))
    assert cli.main(["validate", str(package)]) == 2
    assert capsys.readouterr().err == (f"{csv}: resource 'tasks': {csv.stat().st_size} bytes, but datapackage.json "
                                       f"says {csv.stat().st_size - 1}; the package was changed after it was built: "
                                       "rebuild it\n")


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.browser
def test_the_portal_has_a_front_page_listing_every_dataset_checked_in_chromium(package, tmp_path):
    portal = tmp_path / "portal"
    publish(package, portal, plans=False)
    publish(package, portal, dataset="second-copy", plans=False)
    catalog = json.loads((portal / "catalog.json").read_text(encoding="utf-8"))
    assert CHROMIUM.is_file(), "chromium is missing: `make browser` installs it"
    run = subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}",
                          "--enable-logging=stderr", "--v=0", "--dump-dom", (portal / "index.html").as_uri()],
                         capture_output=True, text=True, timeout=120, check=True)
    dom = run.stdout
    rows = re.findall(r'<tr class="dataset">(.*?)</tr>', dom, flags=re.S)
    assert len(rows) == len(catalog["datasets"]) == 2
    for entry, row in zip(catalog["datasets"], rows, strict=True):
        created = entry["created"][:10]
        assert f'<a href="{entry["name"]}/">{html.escape(entry["title_vi"])}</a>' in row
        assert f"<td>{entry['version']}</td>" in row
        assert f"{created[8:10]}/{created[5:7]}/{created[:4]}" in row  # the date as Vietnamese write it
        assert f'<a href="{entry["zip"]["path"]}">ZIP</a>' in row
        assert (portal / entry["name"] / "index.html").is_file()  # where the link leads: the landing page
    assert [line for line in run.stderr.splitlines() if ":CONSOLE" in line] == []
    before = tree(portal)
    publish(package, portal, plans=False)  # unchanged: the page is not written again
    assert tree(portal) == before


def test_ckan_resources_are_named_in_words_the_zip_workbook_and_landing_page_first(package):
    with open_package(package, validate=False) as snap:
        files = ckan_fields.resource_order(snap.files)
        assert [(f.role, f.format, f.path) for f in files[:3]] == [
            ("archive", "zip", f"{NAME}-1.0.0.zip"), ("file", "xlsx", "data/kehoach.xlsx"),
            ("file", "html", "index.html")]
        assert [f.key for f in files[3:]] == [f.key for f in snap.files if f not in files[:3]]
        tasks = ckan_fields.resource_fields(snap.file("tasks"))
        assert (tasks["name"], tasks["kehoach_key"]) == ("Nhiệm vụ và phân công / Tasks and assignments (CSV)", "tasks")
        archive = ckan_fields.resource_fields(files[0])
        assert archive["name"] == "Toàn bộ gói dữ liệu (ZIP) / The whole data package (ZIP)"
        # a Markdown list starts after a blank line: else CKAN shows the fields as one paragraph
        assert "Cột / Fields:\n\n- `plan_id` (string)" in tasks["description"]
        # published before resources had keys: matched by name still
        assert ckan_fields.stands_for({"name": "tasks"}, snap.file("tasks"))
        assert not ckan_fields.stands_for({"name": "tasks", "kehoach_key": "tasks-parquet"}, snap.file("tasks"))


def test_the_ckan_organisation_is_described_by_the_publisher_settings(monkeypatch):
    monkeypatch.setenv("KEHOACH_PUBLISHER", "Cổng dữ liệu mở thử nghiệm")
    monkeypatch.setenv("KEHOACH_PUBLISHER_DESCRIPTION", "Dữ liệu mở từ các văn bản kế hoạch.")
    monkeypatch.setenv("KEHOACH_PUBLISHER_IMAGE", "https://example.gov.vn/logo.png")
    desired = ckan_fields.organisation_fields("kehoach", settings())
    assert desired == {"name": "kehoach", "title": "Cổng dữ liệu mở thử nghiệm",
                       "description": "Dữ liệu mở từ các văn bản kế hoạch.", "image_url": "https://example.gov.vn/logo.png"}
    assert ckan_fields.organisation_patch({**desired, "id": "x"}, desired) == {}
    assert ckan_fields.organisation_patch({"name": "kehoach", "title": "kehoach"}, desired) == {
        k: v for k, v in desired.items() if k != "name"}
