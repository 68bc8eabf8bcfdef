"""The package on disk: where each file lives, and the one reader of its descriptor.

::

    <out>/datapackage.json          DESCRIPTOR
    <out>/data/<table>.csv          DATA_DIR, one CSV and one Parquet file per table
    <out>/data/<table>.parquet      (Parquet resources are named '<table>-parquet')
    <out>/source/<file>.txt         SOURCE_DIR: the plan texts as read, with their .origin.json
    <out>/index.html                PAGE_FILE: the landing page
    <out>/charts/<chart>.svg        CHARTS_DIR: its charts
    <out>/versions/<version>/       VERSIONS_DIR: earlier versions, whole
    <out>/plans/<plan_id>/          PLANS_DIR: each plan's own package (same layout)
    <out>/retired-plans/<plan_id>/  RETIRED_PLANS_DIR: the package of a plan that left the corpus
    <out>/.kehoach/state.json       STATE_DIR / STATE_FILE: explicit build state (not packaged)
    <out>/.kehoach/csv-spans.arrow  CSV_SPANS_FILE: where each plan's rows are in each CSV file
                                    (kehoach.package.csv_file: a refresh copies the unchanged plans')
    <out>/.kehoach/file-signatures.json  SIGNATURES_FILE: each file's size, mtime and inode with its
                                    hash (RecordedFiles: a refresh does not read an unchanged file again)
    <out>/.kehoach/parse-cache/     PARSE_CACHE_DIR: each source's parsed tables (kehoach.parse.cache;
                                    elsewhere with KEHOACH_PARSE_CACHE: kehoach.build.parse_cache)

Every other module asks this one for names and for the descriptor, so the
layout can change in one place.
"""

from __future__ import annotations

import json
from pathlib import Path

from kehoach.core.errors import KehoachError
from kehoach.core.files import recover, sha256_file

DESCRIPTOR = "datapackage.json"
DATA_DIR = "data"
SOURCE_DIR = "source"


def rendering_path(name: str) -> str:
    """Where a source read from another format than text ships the text it was read as."""
    return f"{SOURCE_DIR}/{name}.txt"
PAGE_FILE = "index.html"
CHARTS_DIR = "charts"
PARQUET_SUFFIX = "-parquet"
# Non-table files (README, the DuckDB file) are listed under this top-level key.
EXTRA_FILES_KEY = "files"
VERSIONS_DIR = "versions"
# One package per plan, derived from the corpus (kehoach.datasets): <out>/plans/<plan_id>/
PLANS_DIR = "plans"
# A plan that left the corpus: its package, whole, with its versions (back in PLANS_DIR if it returns)
RETIRED_PLANS_DIR = "retired-plans"
STATE_DIR = ".kehoach"
STATE_FILE = "state.json"
PARSE_CACHE_DIR = "parse-cache"
CSV_SPANS_FILE = "csv-spans.arrow"
SIGNATURES_FILE = "file-signatures.json"


def parse_cache_dir(out: Path) -> Path:
    """The parse cache kept with an output (moved into each new version's state folder on a swap)."""
    return out / STATE_DIR / PARSE_CACHE_DIR


def csv_spans_path(out: Path) -> Path:
    """Where each plan's rows are in the CSV files of the package in ``out`` (``kehoach.package.csv_file``)."""
    return out / STATE_DIR / CSV_SPANS_FILE


def csv_path(name: str) -> str:
    return f"{DATA_DIR}/{name}.csv"


def parquet_path(name: str) -> str:
    return f"{DATA_DIR}/{name}.parquet"


def package_dir(path: str | Path) -> Path:
    """The package directory, given it or its ``datapackage.json``."""
    path = Path(path)
    return path.parent if path.name == DESCRIPTOR else path


def read_descriptor_bytes(out: Path) -> tuple[bytes, dict]:
    """The descriptor's bytes and content; a located error when it is missing or not a package."""
    recover(out)
    path = out / DESCRIPTOR
    if not path.is_file():
        raise KehoachError("no data package here (run 'kehoach build' first)", path)
    raw = path.read_bytes()
    try:
        desc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise KehoachError(f"not valid JSON: {exc}", path) from None
    except json.JSONDecodeError as exc:
        raise KehoachError(f"not valid JSON: {exc.msg}", path, exc.lineno) from None
    if not isinstance(desc, dict) or not isinstance(desc.get("resources"), list):
        raise KehoachError("not a data package: no 'resources' list", path)
    return raw, desc


def read_descriptor(out: Path) -> dict:
    return read_descriptor_bytes(out)[1]


def current_descriptor(out: Path) -> dict | None:
    """The descriptor of the package in place, or None when there is no readable one."""
    try:
        return read_descriptor(out)
    except KehoachError:
        return None


def recorded_hashes(out: Path) -> dict[str, str]:
    """The hash its descriptor records for each file of the package in place (none without one)."""
    desc = current_descriptor(out)
    return {r["path"]: r["hash"] for r in (desc or {}).get("resources", []) if "path" in r and "hash" in r}


def _signature(path: Path) -> list[int]:
    status = path.stat()
    return [status.st_size, status.st_mtime_ns, status.st_ino]


def sign_files(directory: Path, desc: dict) -> None:
    """Record in the staged package's state folder, for each file its descriptor lists, the hash the
    descriptor records with the file's size, modification time and inode: a later build takes a file whose
    status is still that as holding that hash without reading it (``RecordedFiles``), as make and git do.
    A file edited since has another modification time, or inode (an editor that saves by a rename)."""
    signed = {r["path"]: [r["hash"], *_signature(directory / r["path"])] for r in desc.get("resources", [])
              if "path" in r and "hash" in r and (directory / r["path"]).is_file()}
    path = directory / STATE_DIR / SIGNATURES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(signed), encoding="utf-8")


class RecordedFiles:
    """The files of the package in ``out`` as its descriptor records them (a refresh copies from them
    only those that are still the files recorded: one edited by hand is never copied)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.hashes = recorded_hashes(out)
        try:
            self.signatures = json.loads((out / STATE_DIR / SIGNATURES_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.signatures = {}

    def holds(self, relpath: str) -> bool:
        """Whether the file ``relpath`` is the one the descriptor records: its status unchanged since it was
        signed (``sign_files``), else its bytes read and hashed (a 1,000-plan package's files are 400 MB)."""
        path, recorded = self.out / relpath, self.hashes.get(relpath)
        if recorded is None or path.is_symlink() or not path.is_file():  # a link would bring in a file from outside
            return False
        return self.vouches_for(path, relpath, recorded) or recorded == f"sha256:{sha256_file(path)}"

    def holds_hash(self, relpath: str, hash_: str) -> bool:
        """Whether the file ``relpath`` in place is the one the descriptor records (``holds``), recorded with
        ``hash_`` (``sha256:...``): a staged file of that hash is that file's bytes."""
        return self.hashes.get(relpath) == hash_ and self.holds(relpath)

    def vouches_for(self, path: Path, relpath: str, recorded: str) -> bool:
        """Whether ``path`` (a file of a staged package) is this package's file ``relpath``, linked, with the
        hash ``recorded``, unchanged since it was signed (and so validated) here: not read again."""
        return not path.is_symlink() and self.signatures.get(relpath) == [recorded, *_signature(path)]


def table_resources(desc: dict) -> dict[str, dict]:
    """Table name -> its Parquet resource (the typed copy every reader loads)."""
    return {r["name"].removesuffix(PARQUET_SUFFIX): r for r in desc.get("resources", [])
            if r.get("format") == "parquet" and str(r.get("name", "")).endswith(PARQUET_SUFFIX)}


def csv_schemas(desc: dict) -> dict[str, dict]:
    """Table name -> the resource as the CSV resource declares it (schema, flags)."""
    return {r["name"]: r for r in desc.get("resources", []) if r.get("format") == "csv" and "schema" in r}
