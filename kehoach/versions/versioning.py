"""Change detection and semantic versions of the package.

Inputs are fingerprinted (every source file, the code, the schemas, the
reference vocabularies, and the settings that reach the package's bytes:
``Settings.in_package``, the portal URL, the publisher, the contact); the fingerprint of the last build is kept in
``<out>/.kehoach/state.json`` (explicit state, outside the package). A
refresh whose inputs are unchanged does nothing at all.

When inputs changed, the new package is compared with the current one:
- major: a table was added or removed, or a table's structure (fields,
  types, constraints, keys) changed;
- minor: rows were added, removed or changed (see ``kehoach.versions.diff``);
- patch: only descriptive metadata changed (titles, descriptions, …);
- none: the package would be identical, so nothing is written.
Previous versions are kept, whole, under ``<out>/versions/<version>/``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from kehoach.core.files import atomic_write
from kehoach.core.paths import CODE_DIRS, CODE_ROOT, REFERENCE_DIR, SCHEMAS_DIR
from kehoach.core.settings import settings
from kehoach.package.layout import STATE_DIR, STATE_FILE

FIRST_VERSION = "1.0.0"
# Descriptor keys that change with every build or are derived from the data
# (compared through the data itself), not metadata a reader edits.
VOLATILE_KEYS = {"version", "created", "previous_version", "content_sha256", "change_summary",
                 "change_summary_vi", "generator", "resources", "description", "description_en",
                 "description_vi", "duckdb_version"}
STRUCTURAL_FIELD_KEYS = ("name", "type", "format", "constraints")


def _hash_files(paths: list[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def code_fingerprint() -> str:
    """The code and its declared inputs: kehoach/ and flows/ (Python, SQL, YAML), schemas/, reference/."""
    files = [p for d in CODE_DIRS for p in d.rglob("*") if p.is_file() and p.suffix in (".py", ".sql", ".yml")]
    files += [p for p in SCHEMAS_DIR.glob("*.json")] + [p for p in REFERENCE_DIR.glob("*.csv")]
    return _hash_files(files, CODE_ROOT)


def package_settings() -> dict[str, str]:
    """The settings a package's bytes carry (its id, citation, publisher, contact), by variable."""
    return settings().in_package()


def build_fingerprint() -> str:
    """What every package is made with besides its data: the code and the settings it carries."""
    digest = hashlib.sha256(code_fingerprint().encode())
    digest.update(json.dumps(package_settings(), sort_keys=True).encode())
    return digest.hexdigest()


def input_fingerprint(source_hashes: dict[str, str]) -> str:
    """One hash for everything a build reads: source bytes (by file name), code and settings."""
    digest = hashlib.sha256()
    for name, sha in sorted(source_hashes.items()):
        digest.update(f"{Path(name).name}:{sha}\n".encode())
    digest.update(build_fingerprint().encode())
    return digest.hexdigest()


# --- state -------------------------------------------------------------------

def read_state(out: Path) -> dict:
    path = out / STATE_DIR / STATE_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def write_state(directory: Path, state: dict) -> None:
    """Write state atomically (a temporary file renamed over the old one)."""
    folder = directory / STATE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(state, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    atomic_write(folder / STATE_FILE, text.encode("utf-8"))


# --- versions ------------------------------------------------------------------

def bump(version: str, level: str) -> str:
    major, minor, patch = (int(x) for x in version.split("."))
    if level == "major":
        return f"{major + 1}.0.0"
    if level == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def structure(schema: dict) -> str:
    """The parts of a Table Schema that change what the data means."""
    fields = [{k: f.get(k) for k in STRUCTURAL_FIELD_KEYS} for f in schema.get("fields", [])]
    shape = {"fields": fields, "primaryKey": schema.get("primaryKey"), "foreignKeys": schema.get("foreignKeys")}
    return json.dumps(shape, sort_keys=True, ensure_ascii=False)


def structural_changes(old_schemas: dict[str, dict], new_schemas: dict[str, dict]) -> list[str]:
    """Names of tables added, removed or restructured."""
    names = set(old_schemas) | set(new_schemas)
    return sorted(n for n in names if n not in old_schemas or n not in new_schemas
                  or structure(old_schemas[n]) != structure(new_schemas[n]))


def metadata(descriptor: dict) -> str:
    """Descriptive metadata of a package, for patch-level comparisons."""
    meta = {k: v for k, v in descriptor.items() if k not in VOLATILE_KEYS}
    meta["resources"] = [
        {k: v for k, v in r.items() if k not in ("hash", "bytes", "rows")} for r in descriptor.get("resources", [])
        if r.get("type") != "file"
    ]
    return json.dumps(meta, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class VersionDecision:
    level: str | None  # 'initial', 'major', 'minor', 'patch' or None (nothing to publish)
    version: str
    previous: str | None
    reasons: tuple[str, ...] = ()


def decide_data_level(previous_version: str | None, restructured: list[str], changes: list[dict]) -> VersionDecision:
    """Major/minor decisions come from schemas and data, before the package is staged."""
    if previous_version is None:
        return VersionDecision("initial", FIRST_VERSION, None)
    if restructured:
        return VersionDecision("major", bump(previous_version, "major"), previous_version,
                               tuple(f"structure of {n}" for n in restructured))
    if changes:
        return VersionDecision("minor", bump(previous_version, "minor"), previous_version, ("data",))
    return VersionDecision("patch", bump(previous_version, "patch"), previous_version, ("metadata",))


def change_notes(settings_changed: tuple[str, ...], addresses_changed: tuple[str, ...]) -> tuple[str, str]:
    """(vi, en) what the changelog's summary adds besides the tables: the settings that changed (by
    variable) and the texts whose address changed ('file → URL')."""
    notes = [("Thiết lập đã đổi", "Settings changed", ", ".join(settings_changed)),
             ("Địa chỉ nguồn đã đổi", "Source address changed", "; ".join(addresses_changed))]
    return ("".join(f" {vi}: {what}." for vi, _, what in notes if what),
            "".join(f" {en}: {what}." for _, en, what in notes if what))


def metadata_changed(previous_descriptor: dict, staged_descriptor: dict) -> bool:
    return metadata(previous_descriptor) != metadata(staged_descriptor)
