"""The portal folder's catalogue: ``catalog.json``, ``catalog.jsonld`` and its page, ``index.html``.

``catalog.json`` lists every current dataset (``datasets``) and the datasets
withdrawn from the portal (``withdrawn``: a plan that left the corpus; its
folder and files stay, so links keep working, with a ``withdrawn.json``
notice). ``catalog.jsonld`` is the DCAT catalogue of the current datasets only,
made from each one's ``dataset.jsonld``.

Publishing many datasets at once (a corpus and one dataset per plan) records
them in one ``Catalog`` and writes the two files once at the end: rendering
them after each dataset would cost the square of the number of datasets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kehoach.core.files import atomic_write
from kehoach.publish.dcat import dcat_catalog, rebase
from kehoach.publish.folder_page import PAGE, render_page

CATALOG = "catalog.json"
CATALOG_LD = "catalog.jsonld"
DATASET_LD = "dataset.jsonld"
WITHDRAWN_NOTICE = "withdrawn.json"  # in the folder of a withdrawn dataset
FILES = (CATALOG, CATALOG_LD, PAGE)  # what ``render`` makes, in this order


class Catalog:
    """Changes to a portal folder's catalogue, applied to its files by ``render``/``save``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.put_entries: dict[str, tuple[dict, dict]] = {}  # name -> (catalog.json entry, DCAT node)
        self.withdrawals: dict[str, dict] = {}  # name -> withdrawal record
        self._on_disk: tuple[dict[str, dict], dict[str, dict]] | None = None

    def put(self, name: str, entry: dict, dcat: dict) -> str:
        """List ``name`` as current; "created", "updated" or "unchanged" against the files on disk."""
        self.put_entries[name] = (entry, dcat)
        self.withdrawals.pop(name, None)
        if self._on_disk is None:
            self._on_disk = self._read()  # read once: compared with, never written back
        current = self._on_disk[0]
        if name not in current:
            return "created"
        return "unchanged" if current[name] == entry else "updated"

    def withdraw(self, name: str, record: dict) -> None:
        self.withdrawals[name] = record
        self.put_entries.pop(name, None)

    def _read(self) -> tuple[dict[str, dict], dict[str, dict]]:
        try:
            data = json.loads((self.root / CATALOG).read_text(encoding="utf-8"))
            current = {e["name"]: e for e in data["datasets"] if isinstance(e, dict)}
            withdrawn = {e["name"]: e for e in data.get("withdrawn", []) if isinstance(e, dict)}
        except (OSError, ValueError, KeyError, TypeError):
            return {}, {}  # missing or damaged: rebuilt from what this run knows
        return current, withdrawn

    def render(self) -> tuple[bytes, bytes, bytes]:
        """The three files with this catalogue's changes applied to what is on disk now."""
        current, withdrawn = self._read()
        current = {n: e for n, e in current.items() if (self.root / n).is_dir()}
        for name, record in self.withdrawals.items():
            current.pop(name, None)
            withdrawn[name] = record
        for name, (entry, _dcat) in self.put_entries.items():
            current[name] = entry
            withdrawn.pop(name, None)
        entries = [current[n] for n in sorted(current)]
        body: dict[str, Any] = {"generator": "kehoach", "datasets": entries}
        if withdrawn:
            body["withdrawn"] = [withdrawn[n] for n in sorted(withdrawn)]
        datasets = [node for n in sorted(current) if (node := self._dcat(n)) is not None]
        return json_bytes(body), json_bytes(dcat_catalog(datasets)), render_page(entries, body.get("withdrawn", []))

    def _dcat(self, name: str) -> dict | None:
        if name in self.put_entries:
            return self.put_entries[name][1]
        try:
            other = json.loads((self.root / name / DATASET_LD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        other.pop("@context", None)
        return rebase(other, f"{name}/")

    def stale(self) -> bool:
        return any(read_bytes(self.root / filename) != content
                   for filename, content in zip(FILES, self.render(), strict=True))

    def save(self) -> int:
        """Write the files that differ (atomically); the number written. Call under the portal's lock."""
        writes = 0
        for filename, content in zip(FILES, self.render(), strict=True):
            if read_bytes(self.root / filename) != content:
                atomic_write(self.root / filename, content)
                writes += 1
        return writes


def json_bytes(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
