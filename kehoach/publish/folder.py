"""The local portal folder: one folder per dataset and a DCAT catalogue.

``portal/<dataset>/`` holds the package as a portal serves it, with
``<dataset>-<version>.zip`` and ``dataset.jsonld`` (DCAT), the zips of
earlier versions under ``versions/``; ``portal/catalog.json`` and
``portal/catalog.jsonld`` list every dataset. Hashes are compared before
anything is written, so an unchanged package writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from kehoach.core.files import (
    atomic_write,
    exclusive_lock,
    link_or_copy,
    link_or_copy_tree,
    recover,
    sha256_file,
    staging_dir,
    swap_in,
)
from kehoach.package.layout import DESCRIPTOR
from kehoach.publish.dcat import dcat_catalog, dcat_dataset, rebase
from kehoach.publish.metadata import dataset_meta
from kehoach.publish.report import PublishReport
from kehoach.publish.snapshot import ZIP_KEY, Snapshot, check_name, zip_name

CATALOG = "catalog.json"
CATALOG_LD = "catalog.jsonld"
DATASET_LD = "dataset.jsonld"
VERSIONS_DIR = "versions"  # zips of earlier versions in a dataset folder


def publish_folder(snap: Snapshot, root: Path, dataset: str | None = None, dry_run: bool = False) -> PublishReport:
    """Publish into ``root/<dataset>/`` and list the dataset in ``root/catalog.json(ld)``.

    The dataset folder is replaced as a whole (staged next to it, then two
    renames), the catalog files by atomic renames; an unchanged package
    writes nothing.
    """
    root = Path(root)
    name = check_name(dataset, "dataset name") if dataset else snap.name
    target = root / name
    dataset_ld = _json_bytes(dcat_dataset(snap, "", name))
    wanted = {f.path: f.sha256 for f in snap.files}
    wanted[DATASET_LD] = _sha256_bytes(dataset_ld)
    report = PublishReport("folder", str(target), name, snap.version, dry_run=dry_run)
    with exclusive_lock(root):
        recover(target)
        have = _tree_hashes(target)
        for rel, digest in wanted.items():
            if rel not in have:
                report.created.append(rel)
            elif have[rel] != digest:
                report.updated.append(rel)
            else:
                report.unchanged.append(rel)
        report.deleted = sorted(set(have) - set(wanted))
        catalog_bytes, catalog_ld_bytes = _catalog(root, snap, name)
        catalog_stale = (_read_bytes(root / CATALOG) != catalog_bytes
                         or _read_bytes(root / CATALOG_LD) != catalog_ld_bytes)
        if catalog_stale:
            report.metadata = "updated" if name in _catalog_names(root) else "created"
        if not report.changed:
            return report
        if dry_run:
            return report
        if report.created or report.updated or report.deleted:
            _write_dataset_dir(snap, target, dataset_ld)
            report.writes += len(report.created) + len(report.updated) + len(report.deleted)
        for filename, content in ((CATALOG, catalog_bytes), (CATALOG_LD, catalog_ld_bytes)):
            if _read_bytes(root / filename) != content:
                atomic_write(root / filename, content)
                report.writes += 1
    return report


def _write_dataset_dir(snap: Snapshot, target: Path, dataset_ld: bytes) -> None:
    stage = staging_dir(target)
    try:
        for f in snap.files:
            # Copies, not hard links: the portal must not change if someone
            # edits the package's files in place later.
            (stage / f.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(snap.local(f), stage / f.path)
        (stage / DATASET_LD).write_bytes(dataset_ld)
        _keep_previous_zips(target, stage, zip_name(snap))
        swap_in(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _tree_hashes(directory: Path) -> dict[str, str]:
    """Hashes of the dataset folder's current files (not of its kept versions)."""
    if not directory.is_dir():
        return {}
    return {rel: sha256_file(p) for p in sorted(directory.rglob("*"))
            if p.is_file() and not (rel := p.relative_to(directory).as_posix()).startswith(f"{VERSIONS_DIR}/")}


def _keep_previous_zips(target: Path, stage: Path, current_zip: str) -> None:
    """Earlier versions stay downloadable: their zips move to ``versions/``."""
    if (target / VERSIONS_DIR).is_dir():
        link_or_copy_tree(target / VERSIONS_DIR, stage / VERSIONS_DIR)
    for old in target.glob("*.zip") if target.is_dir() else ():
        if old.name != current_zip:
            link_or_copy(old, stage / VERSIONS_DIR / old.name)


def _catalog_names(root: Path) -> set[str]:
    try:
        return {d["name"] for d in json.loads((root / CATALOG).read_text(encoding="utf-8"))["datasets"]}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def _catalog(root: Path, snap: Snapshot, name: str) -> tuple[bytes, bytes]:
    """catalog.json with this dataset's entry replaced; catalog.jsonld from every dataset's dataset.jsonld."""
    try:
        entries = json.loads((root / CATALOG).read_text(encoding="utf-8"))["datasets"]
        entries = [e for e in entries if isinstance(e, dict) and e.get("name") != name and (root / e["name"]).is_dir()]
    except (OSError, ValueError, KeyError, TypeError):
        entries = []  # missing or damaged: rebuilt from what this run knows
    meta = dataset_meta(snap)
    archive = snap.file(ZIP_KEY)
    entries.append({
        "name": name, "title": meta.title, "title_vi": meta.title_vi, "title_en": meta.title_en,
        "version": meta.version, "created": meta.created, "content_sha256": meta.content_sha256,
        "path": f"{name}/", "descriptor": f"{name}/{DESCRIPTOR}", "dcat": f"{name}/{DATASET_LD}",
        "zip": {"path": f"{name}/{archive.path}", "sha256": archive.sha256, "bytes": archive.size},
    })
    entries.sort(key=lambda e: e["name"])
    catalog = _json_bytes({"generator": "kehoach", "datasets": entries})
    datasets = []
    for e in entries:
        if e["name"] == name:
            datasets.append(dcat_dataset(snap, f"{name}/"))
            continue
        try:
            other = json.loads((root / e["name"] / DATASET_LD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        other.pop("@context", None)
        datasets.append(rebase(other, f"{e['name']}/"))
    catalog_ld = _json_bytes(dcat_catalog(datasets))
    return catalog, catalog_ld


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None

