"""A checked, immutable snapshot of a built package: what every target publishes.

``open_package(out)`` never publishes the package in place. It takes a
*snapshot* (hard links to ``datapackage.json`` and every file it lists, so a
build swapping in a new package meanwhile cannot mix two versions), checks it
again (every file's sha256 and size against the descriptor, then Frictionless
validation) and adds a deterministic zip of the whole package.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from kehoach.core.errors import KehoachError
from kehoach.core.files import link_or_copy, refuse_links, sha256_file
from kehoach.package.layout import DESCRIPTOR, EXTRA_FILES_KEY, read_descriptor_bytes
from kehoach.package.validate import validate_package

# Stable identities of the two files publish adds to the package's own.
DESCRIPTOR_KEY = "datapackage"
ZIP_KEY = "datapackage-zip"
# CKAN dataset names: 2-100 characters of [a-z0-9_-] (no dots, no uppercase).
NAME_RULE = re.compile(r"^[a-z0-9_-]{2,100}$")
MEDIATYPES = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet", "json": "application/json",
              "zip": "application/zip", "duckdb": "application/vnd.duckdb", "md": "text/markdown",
              "txt": "text/plain"}


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
    """The cheap checks, in place: no symbolic link, the descriptor parses and every file matches its hash."""
    refuse_links(out)
    _raw, desc = read_descriptor_bytes(out)
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
        # Publishing reads the output without its lock: a link planted in it would bring an outside
        # file into the snapshot (a hard link to the link's target), so it is refused here too.
        refuse_links(out)
        raw, desc = read_descriptor_bytes(out)
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
