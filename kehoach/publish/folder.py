"""The local portal folder: one folder per dataset and a DCAT catalogue.

``portal/<dataset>/`` holds the package as a portal serves it, with
``<dataset>-<version>.zip`` and ``dataset.jsonld`` (DCAT), the zips of
earlier versions under ``versions/``; ``portal/catalog.json`` and
``portal/catalog.jsonld`` list every dataset. Hashes are compared before
anything is written, so an unchanged package writes nothing.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

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
from kehoach.publish.dcat import dcat_dataset
from kehoach.publish.folder_catalog import DATASET_LD, WITHDRAWN_NOTICE, Catalog, json_bytes
from kehoach.publish.metadata import dataset_meta
from kehoach.publish.report import PublishReport
from kehoach.publish.snapshot import ZIP_KEY, Snapshot, check_name, zip_name

VERSIONS_DIR = "versions"  # zips of earlier versions in a dataset folder


def publish_folder(snap: Snapshot, root: Path, dataset: str | None = None, dry_run: bool = False,
                   catalog: Catalog | None = None) -> PublishReport:
    """Publish into ``root/<dataset>/`` and list the dataset in ``root/catalog.json(ld)``.

    The dataset folder is replaced as a whole (staged next to it, then two
    renames), the catalog files by atomic renames; an unchanged package
    writes nothing. Given a ``catalog``, the dataset is only recorded in it:
    the caller saves it once after publishing many datasets.
    """
    root = Path(root)
    name = check_name(dataset, "dataset name") if dataset else snap.name
    target = root / name
    dataset_ld = json_bytes(dcat_dataset(snap, "", name))
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
        own = Catalog(root) if catalog is None else catalog
        listed = own.put(name, catalog_entry(snap, name), dcat_dataset(snap, f"{name}/"))
        if catalog is not None:
            report.metadata = listed
        elif own.stale():
            report.metadata = "created" if listed == "created" else "updated"
        if not report.changed or dry_run:
            return report
        if report.created or report.updated or report.deleted:
            _write_dataset_dir(snap, target, dataset_ld)
            report.writes += len(report.created) + len(report.updated) + len(report.deleted)
        if catalog is None:
            report.writes += own.save()
    return report


def save_catalog(root: Path, catalog: Catalog) -> int:
    """Write the catalogue of many publishes at once, under the portal's lock."""
    with exclusive_lock(Path(root)):
        return catalog.save()


def withdraw_folder(root: Path, name: str, record: dict, catalog: Catalog) -> bool:
    """Withdraw dataset ``name``: out of the current catalogue (into its
    ``withdrawn`` list, saved with ``catalog``), its folder kept with a
    ``withdrawn.json`` notice. False when there is no such dataset."""
    target = Path(root) / name
    with exclusive_lock(Path(root)):
        recover(target)
        if not target.is_dir():
            return False
        atomic_write(target / WITHDRAWN_NOTICE, json_bytes(record))
    catalog.withdraw(name, record)
    return True


def catalog_entry(snap: Snapshot, name: str) -> dict:
    """The dataset's line in ``catalog.json``."""
    meta = dataset_meta(snap)
    archive = snap.file(ZIP_KEY)
    return {
        "name": name, "title": meta.title, "title_vi": meta.title_vi, "title_en": meta.title_en,
        "version": meta.version, "created": meta.created, "content_sha256": meta.content_sha256,
        "path": f"{name}/", "descriptor": f"{name}/{DESCRIPTOR}", "dcat": f"{name}/{DATASET_LD}",
        "zip": {"path": f"{name}/{archive.path}", "sha256": archive.sha256, "bytes": archive.size},
    }


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


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
