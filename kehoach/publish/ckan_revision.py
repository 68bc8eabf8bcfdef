"""Every resource of a dataset that differs from the package, as one ``package_revise`` request.

One ``resource_create`` or ``resource_patch`` per file is one whole package
update in CKAN each (a package of 73 files: 73 updates, each validating and
indexing a growing dataset). ``package_revise`` (CKAN 2.9+) takes them all:
new resources appended by ``update__resources__extend``, their files as the
form fields ``update__resources__-N__upload`` (CKAN applies ``extend`` first,
so the files attach to the resources it just added), changed ones addressed
by id (``update__resources__<id>``, merged into the resource, and
``update__resources__<id>__upload``). CKAN saves it in one transaction: all or
nothing, so a run stopped around it finds either every resource or none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kehoach.publish.ckan_client import Upload
from kehoach.publish.ckan_fields import ResourceChange, resource_change
from kehoach.publish.snapshot import PackageFile, Snapshot


@dataclass
class Revision:
    data: dict[str, Any]  # the action's fields (JSON values)
    uploads: dict[str, Upload] = field(default_factory=dict)  # form field -> file
    actions: dict[str, str] = field(default_factory=dict)  # file key -> "created" or "updated"


def upload(snap: Snapshot, f: PackageFile) -> Upload:
    return f.filename, snap.local(f), f.mediatype


def revision(package_id: str, snap: Snapshot, files: list[PackageFile],
             match: Callable[[PackageFile], dict | None], licence_iri: str) -> Revision:
    """The ``package_revise`` that brings the dataset's resources to ``files`` (``match``: the resource
    standing for a file now); no ``actions``: nothing to write."""
    rev = Revision({"match": {"id": package_id}})
    new: list[tuple[PackageFile, ResourceChange]] = []
    for f in files:
        current = match(f)
        change = resource_change(current, f, licence_iri)
        if change is None:
            continue
        rev.actions[f.key] = change.action
        if current is None:
            new.append((f, change))
            continue
        where = f"update__resources__{current['id']}"
        rev.data[where] = change.fields
        if change.upload:
            rev.uploads[f"{where}__upload"] = upload(snap, f)
    if new:
        rev.data["update__resources__extend"] = [change.fields for _, change in new]
    for i, (f, _) in enumerate(new):
        rev.uploads[f"update__resources__{i - len(new)}__upload"] = upload(snap, f)
    return rev
