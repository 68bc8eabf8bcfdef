"""Publishing a built package to a target: a local portal folder (the default) or CKAN.

- a folder (default ``portal/``, see ``kehoach.publish.folder``);
- ``ckan``: a CKAN portal through its Action API (``kehoach.publish.ckan``).

Both compare sha256 hashes before writing anything, so publishing an
unchanged package writes nothing and says so.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from kehoach.core.files import exclusive_lock
from kehoach.core.paths import DEFAULT_PORTAL
from kehoach.datasets import update_plan_datasets
from kehoach.package.layout import DESCRIPTOR
from kehoach.publish import ckan, ckan_client
from kehoach.publish.folder import publish_folder
from kehoach.publish.report import PublishReport
from kehoach.publish.snapshot import check_name, open_package
from kehoach.versions import versioning

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
            client_hook: Any = None, plans: bool = True) -> PublishReport:
    """Check the package in ``out`` and publish it to ``target`` (see
    ``resolve_target``): the corpus as one dataset (named ``dataset`` if
    given), then, with ``plans``, each plan as a dataset of its own
    (``kehoach.datasets``), published only when it changed since it was
    last published to this target."""
    where = resolve_target(target)
    settings = None
    if where == CKAN_TARGET:
        settings = ckan_client.settings(ckan_url=ckan_url, org=org, dataset=dataset, token_block=token_block,
                                 retry_deadline=retry_deadline)
        settings.check()
    report = _publish_one(Path(out), where, settings, dataset, validate, dry_run, client_hook)
    if plans and not dry_run:
        plan_settings = dataclasses.replace(settings, dataset=None) if settings is not None else None
        key = target_key(target, org=org, ckan_url=ckan_url)
        report.plans = [_publish_plan(d, where, plan_settings, key, validate, client_hook)
                        for d in _updated_plans(Path(out))]
    return report


def _publish_one(out: Path, where: str | Path, settings: Any, dataset: str | None, validate: bool, dry_run: bool,
                 client_hook: Any) -> PublishReport:
    with open_package(out, validate=validate) as snap:
        if settings is not None:
            return ckan.publish_ckan(snap, settings, dry_run=dry_run, client_hook=client_hook)
        return publish_folder(snap, Path(where), dataset=dataset, dry_run=dry_run)


def _updated_plans(out: Path) -> list[Path]:
    """The plan packages, first brought up to date with the corpus in ``out``."""
    if not (out / DESCRIPTOR).is_file():
        return []
    return [plan.directory for plan in update_plan_datasets(out)]


def _publish_plan(directory: Path, where: str | Path, settings: Any, key: str, validate: bool,
                  client_hook: Any) -> PublishReport:
    """Publish one plan's package unless this very content is already published
    to this target (recorded in the plan package's state, not in the dataset)."""
    with exclusive_lock(directory):
        state = versioning.read_state(directory)
        content = state.get("content_sha256")
        published = state.get("published", {})
        done = published.get(key, {})
        if content and done.get("content_sha256") == content:
            return PublishReport(CKAN_TARGET if settings else "folder", str(where), done.get("dataset", ""),
                                 str(state.get("version", "")), skipped=True)
        report = _publish_one(directory, where, settings, None, validate, False, client_hook)
        published = {**published, key: {"version": state.get("version"), "content_sha256": content,
                                        "dataset": report.dataset}}
        versioning.write_state(directory, {**state, "published": published})
        return report
