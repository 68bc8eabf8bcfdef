"""Publishing a built package to a target: a local portal folder (the default) or CKAN.

- a folder (default ``portal/``, see ``kehoach.publish.folder``);
- ``ckan``: a CKAN portal through its Action API (``kehoach.publish.ckan``).

Both compare sha256 hashes before writing anything, so publishing an
unchanged package writes nothing and says so.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kehoach.core.paths import DEFAULT_PORTAL
from kehoach.publish import ckan, ckan_client
from kehoach.publish.folder import publish_folder
from kehoach.publish.report import PublishReport
from kehoach.publish.snapshot import check_name, open_package

CKAN_TARGET = "ckan"
TARGET_ENV = "KEHOACH_PUBLISH_TARGET"


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
        s = ckan_client.settings(ckan_url=ckan_url, org=org, dataset=dataset)
        return f"{s.url} {s.org}" + (f" {s.dataset}" if s.dataset else "")
    return str(Path(where).resolve()) + (f" {dataset}" if dataset else "")


def check_target(target: str | os.PathLike | None, *, org: str | None = None, dataset: str | None = None,
                 ckan_url: str | None = None, token_block: str | None = None) -> None:
    """What can be checked about a target before Prefect starts: names and CKAN settings."""
    if dataset:
        check_name(dataset, "dataset name")
    if resolve_target(target) == CKAN_TARGET:
        ckan_client.settings(ckan_url=ckan_url, org=org, dataset=dataset, token_block=token_block).check()


def publish(out: Path, target: str | os.PathLike | None = None, *, org: str | None = None,
            dataset: str | None = None, ckan_url: str | None = None, token_block: str | None = None,
            validate: bool = True, dry_run: bool = False, retry_deadline: float | None = None,
            client_hook: Any = None) -> PublishReport:
    """Check the package in ``out`` and publish it to ``target`` (see ``resolve_target``)."""
    where = resolve_target(target)
    settings = None
    if where == CKAN_TARGET:
        settings = ckan_client.settings(ckan_url=ckan_url, org=org, dataset=dataset, token_block=token_block,
                                 retry_deadline=retry_deadline)
        settings.check()
    with open_package(Path(out), validate=validate) as snap:
        if settings is not None:
                return ckan.publish_ckan(snap, settings, dry_run=dry_run, client_hook=client_hook)
        return publish_folder(snap, Path(where), dataset=dataset, dry_run=dry_run)
