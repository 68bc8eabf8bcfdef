"""Publishing a built package: to a local portal folder (the default) or to CKAN.

``publish(out, target)`` never reads the package in place. It takes a
*snapshot* (hard links to ``datapackage.json`` and every file it lists, so a
build swapping in a new package meanwhile cannot mix two versions), checks it
again (every file's sha256 and size against the descriptor, then Frictionless
validation), adds a deterministic zip of the whole package and hands the
snapshot to the target:

- a folder (default ``portal/`` at the repository root, see ``publish_folder``):
  ``portal/<dataset>/`` holds the package as a portal serves it, with
  ``<dataset>-<version>.zip`` and ``dataset.jsonld`` (DCAT), the zips of
  earlier versions under ``versions/``, and
  ``portal/catalog.json`` + ``portal/catalog.jsonld`` list every dataset;
- ``ckan``: a CKAN portal through its Action API (``flows.ckan``).

Both targets compare sha256 hashes before writing anything, so publishing an
unchanged package writes nothing and says so.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import KehoachError
from .files import exclusive_lock, link_or_copy, link_or_copy_tree, recover, sha256_file, staging_dir, swap_in
from .paths import REPO_ROOT

DESCRIPTOR = "datapackage.json"
DEFAULT_PORTAL = REPO_ROOT / "portal"
CKAN_TARGET = "ckan"
TARGET_ENV = "KEHOACH_PUBLISH_TARGET"
# Stable identities of the two files publish adds to the package's own.
DESCRIPTOR_KEY = "datapackage"
ZIP_KEY = "datapackage-zip"
# Non-table files may also be listed under this top-level key (flows.package.EXTRA_FILES_KEY).
EXTRA_FILES_KEY = "files"
CATALOG = "catalog.json"
VERSIONS_DIR = "versions"  # zips of earlier versions in a dataset folder
CATALOG_LD = "catalog.jsonld"
DATASET_LD = "dataset.jsonld"
DATA_PACKAGE_SPEC = "https://specs.frictionlessdata.io/data-package/"
TABLE_SCHEMA_SPEC = "https://specs.frictionlessdata.io/table-schema/"
# CKAN dataset names: 2-100 characters of [a-z0-9_-] (no dots, no uppercase).
NAME_RULE = re.compile(r"^[a-z0-9_-]{2,100}$")
FORMATS = {"csv": "CSV", "parquet": "Parquet", "json": "JSON", "zip": "ZIP", "duckdb": "DuckDB",
           "md": "Markdown", "txt": "TXT", "sqlite": "SQLite"}
MEDIATYPES = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet", "json": "application/json",
              "zip": "application/zip", "duckdb": "application/vnd.duckdb", "md": "text/markdown",
              "txt": "text/plain"}


# ------------------------------------------------------------------ package ---

@dataclass
class PackageFile:
    """One file of the published package, with what the targets need to know."""

    key: str  # stable identity: the Frictionless resource name (the CKAN resource name)
    path: str  # relative POSIX path inside the package
    sha256: str  # hex digest
    size: int
    role: str  # "table", "file", "descriptor" or "archive"
    format: str  # lower-case format, e.g. "csv"
    mediatype: str
    title: str = ""
    title_vi: str = ""
    description: str = ""
    description_vi: str = ""
    rows: int | None = None
    schema: dict | None = None

    @property
    def filename(self) -> str:
        return PurePosixPath(self.path).name


@dataclass
class Snapshot:
    """A checked, immutable copy of a package (hard links where possible)."""

    source: Path  # the package directory it was taken from
    directory: Path  # where the files are
    descriptor: dict
    files: list[PackageFile]  # the package's files, then datapackage.json, then the zip

    @property
    def name(self) -> str:
        return slug_name(str(self.descriptor.get("name") or self.source.name))

    @property
    def version(self) -> str:
        return str(self.descriptor.get("version") or "")

    def local(self, item: PackageFile) -> Path:
        return self.directory / item.path

    def file(self, key: str) -> PackageFile:
        return next(f for f in self.files if f.key == key)


def slug_name(name: str) -> str:
    """A CKAN-safe dataset name derived from a package name ('kehoach.v2' -> 'kehoach-v2')."""
    s = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")
    s = s[:100].rstrip("-")
    if len(s) < 2:
        raise KehoachError(f"package name {name!r} gives no usable dataset name (2-100 of a-z 0-9 _ -)")
    return s


def check_name(name: str, what: str) -> str:
    """Reject (rather than rewrite) a name the user chose, so they know what gets used."""
    if not NAME_RULE.match(name):
        raise KehoachError(f"{what} {name!r} is not valid: use 2-100 characters from a-z, 0-9, '-' and '_'")
    return name


def read_descriptor(out: Path) -> tuple[bytes, dict]:
    recover(out)
    path = out / DESCRIPTOR
    if not path.is_file():
        raise KehoachError("no data package here (run 'kehoach build' first)", path)
    raw = path.read_bytes()
    try:
        desc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KehoachError(f"not valid JSON: {exc}", path) from None
    if not isinstance(desc, dict) or not isinstance(desc.get("resources"), list):
        raise KehoachError("not a data package: no 'resources' list", path)
    return raw, desc


def package_files(desc: dict, where: Path) -> list[PackageFile]:
    """Every local file the descriptor lists (resources, then extra files), as declared."""
    entries = [("resource", r) for r in desc["resources"]]
    entries += [("extra", r) for r in desc.get(EXTRA_FILES_KEY) or [] if isinstance(r, dict)]
    found: list[PackageFile] = []
    for kind, entry in entries:
        if not isinstance(entry, dict) or "path" not in entry:
            continue  # inline data lives in datapackage.json itself
        path = _safe_path(entry["path"], entry.get("name"), where)
        name = str(entry.get("name") or PurePosixPath(path).stem)
        digest = _declared_sha256(entry, name, where)
        fmt = str(entry.get("format") or PurePosixPath(path).suffix.lstrip(".")).lower()
        tabular = kind == "resource" and isinstance(entry.get("schema"), dict) and entry.get("type") != "file"
        found.append(PackageFile(
            key=name, path=path, sha256=digest, size=int(entry.get("bytes") or -1),
            role="table" if tabular else "file", format=fmt,
            mediatype=str(entry.get("mediatype") or MEDIATYPES.get(fmt, "application/octet-stream")),
            title=str(entry.get("title") or ""), title_vi=str(entry.get("title_vi") or ""),
            description=str(entry.get("description") or ""), description_vi=str(entry.get("description_vi") or ""),
            rows=entry.get("rows") if isinstance(entry.get("rows"), int) else None,
            schema=entry.get("schema") if tabular else None,
        ))
    _check_unique(found, where)
    return found


def _safe_path(value: Any, name: Any, where: Path) -> str:
    if not isinstance(value, str):
        raise KehoachError(f"resource {name!r}: only a single local path can be published, not {value!r}", where)
    p = PurePosixPath(value)
    if re.match(r"^[a-z][a-z0-9+.-]*://", value) or p.is_absolute() or ".." in p.parts or "\\" in value:
        raise KehoachError(f"resource {name!r}: path {value!r} is not a relative path inside the package", where)
    if str(p) == DESCRIPTOR:
        raise KehoachError(f"resource {name!r}: a resource cannot be {DESCRIPTOR} itself", where)
    return str(p)


def _declared_sha256(entry: dict, name: str, where: Path) -> str:
    declared = str(entry.get("hash") or "")
    algo, _, digest = declared.rpartition(":")
    if (algo or "sha256") != "sha256" or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise KehoachError(f"resource {name!r} ({entry.get('path')}): no sha256 'hash' in the descriptor; "
                           "only a package built by kehoach can be published", where)
    return digest


def _check_unique(found: list[PackageFile], where: Path) -> None:
    seen_keys, seen_paths = set(), set()
    for f in found:
        if f.key in (DESCRIPTOR_KEY, ZIP_KEY) or f.key in seen_keys:
            raise KehoachError(f"resource name {f.key!r} is used twice (or is reserved for publishing)", where)
        if f.path in seen_paths:
            raise KehoachError(f"file {f.path!r} is listed twice", where)
        seen_keys.add(f.key)
        seen_paths.add(f.path)


def check_package(out: Path) -> list[PackageFile]:
    """The cheap checks, in place: the descriptor parses and every file matches its hash."""
    _raw, desc = read_descriptor(out)
    files = package_files(desc, out / DESCRIPTOR)
    for f in files:
        _verify(out, f)
    return files


def _verify(directory: Path, f: PackageFile, shown_as: Path | None = None) -> None:
    path = directory / f.path
    shown = (shown_as or directory) / f.path
    if not path.is_file():
        raise KehoachError(f"resource {f.key!r}: file missing (listed in {DESCRIPTOR})", shown)
    size = path.stat().st_size
    if f.size >= 0 and size != f.size:
        raise KehoachError(f"resource {f.key!r}: {size} bytes, but {DESCRIPTOR} says {f.size}; "
                           "the package was changed after it was built: rebuild it", shown)
    if sha256_file(path) != f.sha256:
        raise KehoachError(f"resource {f.key!r}: sha256 does not match {DESCRIPTOR}; "
                           "the package was changed after it was built: rebuild it", shown)
    f.size = size


@contextlib.contextmanager
def open_package(out: Path, *, validate: bool = True) -> Iterator[Snapshot]:
    """Snapshot, check and zip the package in ``out``; the snapshot is removed afterwards."""
    out = Path(out)
    work = _workdir(out)
    try:
        snap = _snapshot(out, work)
        if validate:
            _validate(snap, out)
        snap.files.append(_write_zip(snap))
        yield snap
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _workdir(out: Path) -> Path:
    # Next to the package (same filesystem, so files can be hard-linked;
    # '.output.publish-*' is ignored by git like the build's staging dirs).
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.publish-", dir=out.parent))
    except OSError:
        return Path(tempfile.mkdtemp(prefix="kehoach-publish-"))


def _snapshot(out: Path, work: Path, attempts: int = 3) -> Snapshot:
    for attempt in range(attempts):
        raw, desc = read_descriptor(out)
        files = package_files(desc, out / DESCRIPTOR)
        target = work / f"package-{attempt}"
        try:
            for f in files:
                link_or_copy(out / f.path, target / f.path)
        except FileNotFoundError:
            if attempt + 1 < attempts:
                continue  # a build swapped a new package in meanwhile: take it again
            raise KehoachError("files of the package disappeared while publishing; is a build running?", out) from None
        (target / DESCRIPTOR).write_bytes(raw)
        try:
            for f in files:
                _verify(target, f, shown_as=out)
        except KehoachError:
            if attempt + 1 < attempts and _descriptor_changed(out, raw):
                continue
            raise
        files.append(_descriptor_file(target / DESCRIPTOR, desc))
        return Snapshot(out, target, desc, files)
    raise AssertionError("unreachable")


def _descriptor_changed(out: Path, raw: bytes) -> bool:
    try:
        return (out / DESCRIPTOR).read_bytes() != raw
    except OSError:
        return True


def _descriptor_file(path: Path, desc: dict) -> PackageFile:
    return PackageFile(
        key=DESCRIPTOR_KEY, path=DESCRIPTOR, sha256=sha256_file(path), size=path.stat().st_size,
        role="descriptor", format="json", mediatype="application/json",
        title="Data package descriptor", title_vi="Mô tả gói dữ liệu",
        description=("Frictionless Data Package descriptor: titles and descriptions (Vietnamese and English), "
                     "licence, sources with their sha256, and the Table Schema of every table."),
        description_vi=("Tệp mô tả gói dữ liệu (Frictionless Data Package): tên và mô tả song ngữ, giấy phép, "
                        "nguồn kèm mã băm sha256 và lược đồ (Table Schema) của từng bảng."),
    )


def _validate(snap: Snapshot, out: Path) -> None:
    from .validate import validate_package

    try:
        validate_package(snap.directory)
    except KehoachError as exc:
        where = exc.path
        if where and where.startswith(str(snap.directory)):
            where = str(out) + where[len(str(snap.directory)):]
        raise KehoachError(f"not published: {exc.message}", where, exc.line) from None


# ---------------------------------------------------------------------- zip ---

def zip_name(snap: Snapshot) -> str:
    return f"{snap.name}-{snap.version}.zip" if snap.version else f"{snap.name}.zip"


def _write_zip(snap: Snapshot) -> PackageFile:
    rel = zip_name(snap)
    dest = snap.directory / rel
    members = [DESCRIPTOR] + [f.path for f in snap.files if f.role != "descriptor"]
    write_zip(snap.directory, members, dest, zip_time(snap.descriptor.get("created")))
    return PackageFile(
        key=ZIP_KEY, path=rel, sha256=sha256_file(dest), size=dest.stat().st_size, role="archive",
        format="zip", mediatype="application/zip",
        title="The whole data package (ZIP)", title_vi="Toàn bộ gói dữ liệu (ZIP)",
        description=(f"{DESCRIPTOR} and every file it lists, in one ZIP file "
                     "(Frictionless can open it directly)."),
        description_vi=f"{DESCRIPTOR} và mọi tệp nó liệt kê, gộp trong một tệp ZIP.",
    )


def write_zip(directory: Path, members: list[str], dest: Path, when: tuple[int, ...]) -> None:
    """A byte-reproducible zip: fixed order, timestamps, permissions and compression.

    Same files in, same bytes out, so the zip's sha256 only changes with the
    package and hash-based idempotence holds for it too.
    """
    with zipfile.ZipFile(dest, "w") as archive:
        for rel in members:
            info = zipfile.ZipInfo(rel, date_time=when)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the host
            info.external_attr = 0o100644 << 16
            info.file_size = (directory / rel).stat().st_size  # lets zipfile pick ZIP64 up front
            with (directory / rel).open("rb") as src, archive.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)


def zip_time(created: Any) -> tuple[int, int, int, int, int, int]:
    """The package's creation time as a zip timestamp (1980-01-01 when unknown)."""
    try:
        t = datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    except ValueError:
        return (1980, 1, 1, 0, 0, 0)
    year = min(max(t.year, 1980), 2107)
    return (year, t.month, t.day, t.hour, t.minute, t.second - t.second % 2)


# ----------------------------------------------------------------- metadata ---

@dataclass
class DatasetMeta:
    """What the portals need to know about the package, read from its descriptor
    (and, for plan details, from its ``plans`` table when there is one)."""

    name: str
    title: str
    title_vi: str
    title_en: str
    description_vi: str
    description_en: str
    version: str
    created: str
    licence: dict
    licence_note_vi: str
    licence_note_en: str
    keywords: list[str]
    language: list[str]
    sources: list[dict]
    content_sha256: str
    generator: str
    plans: list[dict] = field(default_factory=list)

    @property
    def plan_numbers(self) -> list[str]:
        return _unique([p.get("number") for p in self.plans] or [s.get("number") for s in self.sources])

    @property
    def plan_issuers(self) -> list[str]:
        return _unique([p.get("issuer") for p in self.plans] or [s.get("issuer") for s in self.sources])

    @property
    def plan_issued_dates(self) -> list[str]:
        return _unique([p.get("issued_date") for p in self.plans] or [s.get("issued_date") for s in self.sources])

    @property
    def source_sha256(self) -> list[str]:
        return _unique([str(s.get("hash", "")).removeprefix("sha256:") for s in self.sources])

    @property
    def landing_page(self) -> str:
        return next((str(s["url"]) for s in self.sources if s.get("url")), "")

    @property
    def temporal(self) -> tuple[str, str]:
        """The plan years as a period ('2024-01-01', '2024-12-31'); empty when unknown."""
        years = sorted(int(p["plan_year"]) for p in self.plans if str(p.get("plan_year") or "").isdigit())
        if not years:
            return "", ""
        return f"{years[0]}-01-01", f"{years[-1]}-12-31"

    @property
    def provenance(self) -> str:
        parts = []
        for s in self.sources:
            bits = [s.get("number"), s.get("issuer"), s.get("issued_date")]
            parts.append(f"{s.get('title', '')} ({', '.join(str(b) for b in bits if b)})")
        return f"Extracted by {self.generator or 'kehoach'} from: " + "; ".join(parts)


def _unique(values: list[Any]) -> list[str]:
    out: list[str] = []
    for v in values:
        if v and str(v) not in out:
            out.append(str(v))
    return out


def dataset_meta(snap: Snapshot) -> DatasetMeta:
    d = snap.descriptor
    licences = d.get("licenses") or [{}]
    return DatasetMeta(
        name=snap.name,
        title=str(d.get("title") or d.get("name") or ""),
        title_vi=str(d.get("title_vi") or d.get("title") or ""),
        title_en=str(d.get("title_en") or d.get("title") or ""),
        description_vi=str(d.get("description_vi") or d.get("description") or ""),
        description_en=str(d.get("description_en") or ""),
        version=snap.version,
        created=str(d.get("created") or ""),
        licence=licences[0] if isinstance(licences[0], dict) else {},
        licence_note_vi=str(d.get("licence_note_vi") or ""),
        licence_note_en=str(d.get("licence_note_en") or ""),
        keywords=[str(k) for k in d.get("keywords") or []],
        language=[str(k) for k in d.get("language") or []],
        sources=[s for s in d.get("sources") or [] if isinstance(s, dict)],
        content_sha256=str(d.get("content_sha256") or ""),
        generator=str(d.get("generator") or ""),
        plans=_plans(snap),
    )


def _plans(snap: Snapshot) -> list[dict]:
    plans = next((f for f in snap.files if f.key == "plans" and f.format == "csv"), None)
    if plans is None:
        return []
    with snap.local(plans).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# ------------------------------------------------------------------ reports ---

@dataclass
class PublishReport:
    """What a publish did (or, with ``dry_run``, would do)."""

    target: str  # "folder" or "ckan"
    location: str  # the dataset's folder or URL
    dataset: str
    version: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    metadata: str = "unchanged"  # "created", "updated" or "unchanged"
    writes: int = 0  # write calls made (CKAN) or files written (folder)
    retries: int = 0
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted) or self.metadata != "unchanged"

    def summary(self) -> str:
        head = f"{self.location}: {self.dataset} {self.version}".rstrip()
        total = len(self.created) + len(self.updated) + len(self.unchanged)
        if not self.changed:
            return f"{head} unchanged ({total} files, no writes)"
        verb = "would publish" if self.dry_run else "published"
        parts = [f"{len(self.created)} created", f"{len(self.updated)} updated", f"{len(self.deleted)} deleted",
                 f"{len(self.unchanged)} unchanged"]
        tail = "" if self.dry_run else f"; {self.writes} writes" + (f", {self.retries} retries" if self.retries else "")
        meta = "" if self.metadata == "unchanged" else f", metadata {self.metadata}"
        return f"{head} {verb}: {', '.join(parts)}{meta}{tail}"


# -------------------------------------------------------------- the folder ---

def publish_folder(snap: Snapshot, root: Path, dataset: str | None = None, dry_run: bool = False) -> PublishReport:
    """Publish into ``root/<dataset>/`` and list the dataset in ``root/catalog.json(ld)``.

    The dataset folder is replaced as a whole (staged next to it, then two
    renames), the catalog files by atomic renames; an unchanged package
    writes nothing.
    """
    root = Path(root)
    name = check_name(dataset, "dataset name") if dataset else snap.name
    target = root / name
    dataset_ld = _json_bytes(dcat_dataset(snap, ""))
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
                _atomic_write(root / filename, content)
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
        datasets.append(_rebase(other, f"{e['name']}/"))
    catalog_ld = _json_bytes({"@context": _LD_CONTEXT, "@id": "", "@type": "dcat:Catalog",
                              "dct:title": "kehoach open data", "dcat:dataset": datasets})
    return catalog, catalog_ld


_LD_CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "spdx": "http://spdx.org/rdf/terms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def dcat_dataset(snap: Snapshot, base: str) -> dict:
    """The dataset as DCAT in JSON-LD; ``base`` prefixes the relative IRIs of its files."""
    meta = dataset_meta(snap)
    node: dict[str, Any] = {
        "@id": base or "./",
        "@type": "dcat:Dataset",
        "dct:identifier": meta.name,
        "dct:title": [{"@value": meta.title_vi, "@language": "vi"}, {"@value": meta.title_en, "@language": "en"}],
        "dct:description": [{"@value": meta.description_vi, "@language": "vi"},
                            {"@value": meta.description_en, "@language": "en"}],
        "dcat:keyword": meta.keywords,
        "owl:versionInfo": meta.version,
        "dct:modified": {"@value": meta.created, "@type": "xsd:dateTime"},
        "dct:language": meta.language,
        "dct:conformsTo": {"@id": DATA_PACKAGE_SPEC},
        "dct:provenance": meta.provenance,
    }
    if meta.licence.get("path"):
        node["dct:license"] = {"@id": meta.licence["path"]}
    start, end = meta.temporal
    if start:
        node["dct:temporal"] = {"@type": "dct:PeriodOfTime",
                                "dcat:startDate": {"@value": start, "@type": "xsd:date"},
                                "dcat:endDate": {"@value": end, "@type": "xsd:date"}}
    if meta.landing_page:
        node["dcat:landingPage"] = {"@id": meta.landing_page}
    node["dcat:distribution"] = [_distribution(f, base) for f in snap.files]
    return {"@context": _LD_CONTEXT, **node} if not base else node


def _distribution(f: PackageFile, base: str) -> dict:
    dist: dict[str, Any] = {
        "@id": f"{base}{f.path}#distribution",
        "@type": "dcat:Distribution",
        "dct:identifier": f.key,
        "dct:title": [t for t in ({"@value": f.title_vi, "@language": "vi"}, {"@value": f.title, "@language": "en"})
                      if t["@value"]],
        "dcat:downloadURL": {"@id": f"{base}{f.path}"},
        "dcat:mediaType": f.mediatype,
        "dct:format": FORMATS.get(f.format, f.format.upper()),
        "dcat:byteSize": {"@value": f.size, "@type": "xsd:nonNegativeInteger"},
        "spdx:checksum": {"@type": "spdx:Checksum", "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
                          "spdx:checksumValue": f.sha256},
    }
    if f.role == "table":
        dist["dct:conformsTo"] = {"@id": TABLE_SCHEMA_SPEC}
    return dist


def _rebase(node: Any, prefix: str) -> Any:
    """Prefix the relative '@id's of a dataset.jsonld written for its own folder."""
    if isinstance(node, list):
        return [_rebase(n, prefix) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k == "@id" and isinstance(v, str) and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", v):
            out[k] = prefix + (v[2:] if v.startswith("./") else v)
        else:
            out[k] = _rebase(v, prefix)
    return out


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# ------------------------------------------------------------------ targets ---

def resolve_target(target: str | os.PathLike | None) -> str | Path:
    """``"ckan"``, or the folder to publish into (default ``portal/``; $KEHOACH_PUBLISH_TARGET)."""
    value = str(target) if target is not None and str(target) != "" else os.environ.get(TARGET_ENV, "")
    if not value:
        return DEFAULT_PORTAL
    if value.lower() == CKAN_TARGET:
        return CKAN_TARGET
    return Path(value).expanduser()


def target_key(target: str | os.PathLike | None, *, org: str | None = None, dataset: str | None = None,
               ckan_url: str | None = None) -> str:
    """A stable name for a publishing target, to remember what was published
    where: the portal folder, or the CKAN address and organisation."""
    where = resolve_target(target)
    if where == CKAN_TARGET:
        from . import ckan

        s = ckan.settings(ckan_url=ckan_url, org=org, dataset=dataset)
        return f"{s.url} {s.org}" + (f" {s.dataset}" if s.dataset else "")
    return str(Path(where).resolve()) + (f" {dataset}" if dataset else "")


def check_target(target: str | os.PathLike | None, *, org: str | None = None, dataset: str | None = None,
                 ckan_url: str | None = None, token_block: str | None = None) -> None:
    """What can be checked about a target before Prefect starts: names and CKAN settings."""
    if dataset:
        check_name(dataset, "dataset name")
    if resolve_target(target) == CKAN_TARGET:
        from . import ckan

        ckan.settings(ckan_url=ckan_url, org=org, dataset=dataset, token_block=token_block).check()


def publish(out: Path, target: str | os.PathLike | None = None, *, org: str | None = None,
            dataset: str | None = None, ckan_url: str | None = None, token_block: str | None = None,
            validate: bool = True, dry_run: bool = False, retry_deadline: float | None = None,
            client_hook: Any = None) -> PublishReport:
    """Check the package in ``out`` and publish it to ``target`` (see ``resolve_target``)."""
    where = resolve_target(target)
    settings = None
    if where == CKAN_TARGET:
        from . import ckan

        settings = ckan.settings(ckan_url=ckan_url, org=org, dataset=dataset, token_block=token_block,
                                 retry_deadline=retry_deadline)
        settings.check()
    with open_package(Path(out), validate=validate) as snap:
        if settings is not None:
            from . import ckan

            return ckan.publish_ckan(snap, settings, dry_run=dry_run, client_hook=client_hook)
        return publish_folder(snap, Path(where), dataset=dataset, dry_run=dry_run)
