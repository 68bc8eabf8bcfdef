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

from kehoach.core.errors import KehoachError
from kehoach.core.files import exclusive_lock
from kehoach.core.paths import DEFAULT_PORTAL
from kehoach.core.settings import DEFAULT_PORTAL_URL, changed_settings, settings
from kehoach.datasets import retired_plan_dirs, update_plan_datasets
from kehoach.package.layout import DESCRIPTOR, current_descriptor
from kehoach.package.writer import now_iso
from kehoach.publish import ckan, ckan_client
from kehoach.publish.ckan_withdraw import withdraw_ckan
from kehoach.publish.folder import publish_folder, save_catalog, withdraw_folder
from kehoach.publish.folder_catalog import Catalog
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


LOCAL_ADDRESS = ("the portal URL is the local default {url} (KEHOACH_PORTAL_URL is not set): a package "
                 "published there cites an address only this machine opens; set KEHOACH_PORTAL_URL to the "
                 "portal's public address")


def local_address_warning() -> str | None:
    """A plain warning when the package's address will be the local default (any target)."""
    conf = settings()
    return f"warning: {LOCAL_ADDRESS.format(url=conf.portal_url)}" if conf.portal_url == DEFAULT_PORTAL_URL else None


def stale_settings_warning(out: Path) -> str | None:
    """A plain warning when the package in ``out`` was built with other values of the settings it
    carries (its id, citation, publisher): publishing does not rebuild it, ``kehoach refresh`` does."""
    changed = changed_settings(versioning.read_state(Path(out)).get("settings"), versioning.package_settings())
    if not changed:
        return None
    return (f"warning: {out} was built with other values of {', '.join(changed)}: its id, citation and "
            "landing page say the old ones; run 'kehoach refresh' to rebuild it with the settings now in force")


def check_cited_address(out: Path | None = None) -> None:
    """For CKAN, a public portal: refuse the local default portal URL, in the settings or in the
    package's ``id`` (what its citation and DCAT give as its address)."""
    if settings().portal_url == DEFAULT_PORTAL_URL:
        raise KehoachError(f"CKAN: {LOCAL_ADDRESS.format(url=DEFAULT_PORTAL_URL)}")
    cited = str((current_descriptor(out) or {}).get("id") or "") if out is not None else ""
    if cited.startswith(DEFAULT_PORTAL_URL):
        raise KehoachError(f"CKAN: the package's id is {cited}, under the local default portal URL: rebuild it "
                           "with KEHOACH_PORTAL_URL set (kehoach refresh --target ckan)", out / DESCRIPTOR)


def check_target(target: str | os.PathLike | None, *, org: str | None = None, dataset: str | None = None,
                 ckan_url: str | None = None, token_block: str | None = None, out: Path | None = None) -> None:
    """What can be checked about a target before Prefect starts: names, CKAN settings, and, for CKAN,
    a portal URL others can open (``out``: the package to publish, when it is already built)."""
    if dataset:
        check_name(dataset, "dataset name")
    if resolve_target(target) == CKAN_TARGET:
        ckan_client.settings(ckan_url=ckan_url, org=org, dataset=dataset, token_block=token_block).check()
        check_cited_address(out)


def publish(out: Path, target: str | os.PathLike | None = None, *, org: str | None = None,
            dataset: str | None = None, ckan_url: str | None = None, token_block: str | None = None,
            validate: bool = True, dry_run: bool = False, retry_deadline: float | None = None,
            client_hook: Any = None, plans: bool = True) -> PublishReport:
    """Check the package in ``out`` and publish it to ``target`` (see
    ``resolve_target``): the corpus as one dataset (named ``dataset`` if
    given), then, with ``plans``, each plan as a dataset of its own
    (``kehoach.datasets``), published only when it changed since it was
    last published to this target; the datasets of plans that left the
    corpus are withdrawn."""
    where = resolve_target(target)
    settings = None
    if where == CKAN_TARGET:
        settings = ckan_client.settings(ckan_url=ckan_url, org=org, dataset=dataset, token_block=token_block,
                                 retry_deadline=retry_deadline)
        settings.check()
        check_cited_address(Path(out))
    report = _publish_one(Path(out), where, settings, dataset, validate, dry_run, client_hook)
    if plans and not dry_run and (Path(out) / DESCRIPTOR).is_file():
        plan_settings = dataclasses.replace(settings, dataset=None) if settings is not None else None
        batch = _PlanBatch(where, plan_settings, target_key(target, org=org, ckan_url=ckan_url), client_hook)
        try:
            # a plan package made (and validated) by this very update is only checked against its hashes
            report.plans = [batch.publish(p.directory, validate and not p.changed)
                            for p in update_plan_datasets(Path(out))]
            report.withdrawn = [name for d in retired_plan_dirs(Path(out))
                                if (name := batch.withdraw(d, keep={report.dataset}))]
        finally:
            batch.finish()  # what was published is catalogued and recorded, even if a later plan failed
    return report


def _publish_one(out: Path, where: str | Path, settings: Any, dataset: str | None, validate: bool, dry_run: bool,
                 client_hook: Any, catalog: Catalog | None = None) -> PublishReport:
    with open_package(out, validate=validate) as snap:
        if settings is not None:
            return ckan.publish_ckan(snap, settings, dry_run=dry_run, client_hook=client_hook)
        return publish_folder(snap, Path(where), dataset=dataset, dry_run=dry_run, catalog=catalog)


class _PlanBatch:
    """The plans' datasets on one target. What was published is recorded in each
    plan package's state (not in the dataset), by target; a portal folder's
    catalogue is written once, at the end, and only then the states that rely on it."""

    def __init__(self, where: str | Path, settings: Any, key: str, client_hook: Any) -> None:
        self.where, self.settings, self.key, self.client_hook = where, settings, key, client_hook
        self.catalog = Catalog(Path(where)) if settings is None else None
        self.pending: list[tuple[Path, dict]] = []  # (plan package, its new 'published' entry)

    def publish(self, directory: Path, validate: bool) -> PublishReport:
        """Publish one plan's package unless this very version is already published to this target (a
        version of the same data, made by a changed setting or address, is published too)."""
        with exclusive_lock(directory):
            state = versioning.read_state(directory)
            content = state.get("content_sha256")
            done = state.get("published", {}).get(self.key, {})
        if content and (done.get("content_sha256"), done.get("version")) == (content, state.get("version")) \
                and not done.get("withdrawn"):
            return PublishReport(CKAN_TARGET if self.settings else "folder", str(self.where),
                                 done.get("dataset", ""), str(state.get("version", "")), skipped=True)
        report = _publish_one(directory, self.where, self.settings, None, validate, False, self.client_hook,
                              self.catalog)
        self._record(directory, {"version": state.get("version"), "content_sha256": content,
                                 "dataset": report.dataset})
        return report

    def withdraw(self, directory: Path, keep: set[str]) -> str | None:
        """Withdraw the dataset of a retired plan, once; its name (None: nothing to withdraw)."""
        state = versioning.read_state(directory)
        done = state.get("published", {}).get(self.key)
        if not done or done.get("withdrawn") or done.get("dataset") in keep:
            return None
        name = str(done["dataset"])
        record = {"name": name, "version": done.get("version"), "withdrawn": now_iso(),
                  "reason": "the plan is no longer in the corpus",
                  "reason_vi": "kế hoạch không còn trong bộ dữ liệu"}
        if self.settings is not None:
            withdrawn = withdraw_ckan(name, self.settings, client_hook=self.client_hook)
        else:
            withdrawn = withdraw_folder(Path(self.where), name, record, self.catalog)
        self._record(directory, {**done, "withdrawn": record["withdrawn"]})
        return name if withdrawn else None  # gone already (e.g. by hand): nothing was withdrawn now

    def _record(self, directory: Path, entry: dict) -> None:
        if self.catalog is None:
            _write_published(directory, self.key, entry)
        else:
            self.pending.append((directory, entry))

    def finish(self) -> None:
        if self.catalog is not None:
            save_catalog(Path(self.where), self.catalog)
        for directory, entry in self.pending:
            _write_published(directory, self.key, entry)
        self.pending = []


def _write_published(directory: Path, key: str, entry: dict) -> None:
    with exclusive_lock(directory):
        state = versioning.read_state(directory)
        versioning.write_state(directory, {**state, "published": {**state.get("published", {}), key: entry}})
