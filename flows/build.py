"""The build steps as plain functions (the Prefect flow in ``flows.pipeline``
wraps each one as a task; tests call them directly).

read -> parse -> merge -> stage -> validate -> swap in
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .database import stage_database
from .errors import KehoachError
from .files import link_or_copy_tree, recover, staging_dir, swap_in
from .model import Tables, concat
from .package import descriptor, now_iso, package_info, write_descriptor, write_tables
from .parse import parse_source
from .paths import SCHEMAS_DIR
from .readme import stage_readme
from .sources import SourceText, discover, read_source
from .validate import validate_package

log = logging.getLogger(__name__)

# Directories inside the output that survive a rebuild (kept across swaps).
PRESERVED = ("versions",)
# Hooks run on the staged package before validation: (tables, staging dir,
# descriptor extras) -> file resources they wrote. Issue #4: the DuckDB
# database and the README with the audit summary (written in this order).
STAGE_HOOKS: list = [stage_database, stage_readme]


@dataclass
class BuildResult:
    out: Path
    version: str
    changed: bool
    content_sha256: str
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def read_sources(paths: list[str | Path]) -> list[SourceText]:
    return [read_source(p) for p in discover(paths)]


def parse_sources(sources: list[SourceText]) -> Tables:
    parts = [parse_source(s) for s in sources]
    tables = concat(parts)
    ids = tables["plans"].column("plan_id").to_pylist()
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        files = [s.path for s, p in zip(sources, parts, strict=True)
                 if p["plans"].column("plan_id")[0].as_py() in duplicates]
        raise KehoachError(f"plan {duplicates[0]} is given by more than one source: {', '.join(files)}")
    return tables


def schema_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(SCHEMAS_DIR.glob("*.json")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def content_fingerprint(resources: list[dict]) -> str:
    """Hash of what the package says (data + schemas), not of when it was made."""
    digest = hashlib.sha256()
    for r in sorted(resources, key=lambda r: r["name"]):
        if r.get("format") == "csv":
            digest.update(f"{r['name']}:{r['hash']}\n".encode())
    digest.update(schema_fingerprint().encode())
    return digest.hexdigest()


def current_descriptor(out: Path) -> dict | None:
    recover(out)
    path = out / "datapackage.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None


def stage(tables: Tables, sources: list[SourceText], out: Path, version: str = "1.0.0") -> tuple[Path, dict]:
    """Write the complete package into a staging directory next to ``out``."""
    directory = staging_dir(out)
    resources = write_tables(tables, directory)
    extra: dict = {"content_sha256": content_fingerprint(resources)}
    for hook in STAGE_HOOKS:
        resources += hook(tables, directory, extra) or []
    info = package_info(tables, sources, version, now_iso())
    desc = descriptor(info, sources, resources, extra)
    write_descriptor(directory, desc)
    return directory, desc


def validate_staged(directory: Path, tables: Tables, sources: list[SourceText]):
    try:
        return validate_package(directory, tables, sources[0].path if len(sources) == 1 else None)
    except KehoachError:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def swap(directory: Path, out: Path) -> None:
    for name in PRESERVED:
        previous = out / name
        if previous.exists():
            link_or_copy_tree(previous, directory / name)
    swap_in(directory, out)


def discard(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)


def counts(tables: Tables) -> dict[str, int]:
    return {name: t.num_rows for name, t in tables.items()}
