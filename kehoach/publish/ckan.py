"""Publishing to a CKAN portal through its Action API (httpx), idempotently.

How a sync goes (``CkanPublisher.run``):

1. reads only: ``user_show`` (is the token accepted?), ``organization_show``,
   ``package_show`` (by name; never ``package_search``, whose index may lag);
2. writes only what differs: the organisation and the dataset when missing,
   then one resource per file of the package, matched by ``name``: created,
   re-uploaded when its sha256 (``hash``) or size differs, patched when only
   its metadata differs, all in one ``package_revise`` (``ckan_revision``); when
   the portal refuses it (a file over its upload limit, a proxy's body limit),
   one call per file, which names the file. Managed resources that left the
   package are deleted;
3. every table whose CSV or schema changed is pushed to the DataStore, whole
   (``kehoach.publish.ckan_datastore``: typed fields, data dictionary, a table
   view), what was pushed recorded in one write at the end; its writes are
   reported apart (``datastore_writes``);
4. the dataset metadata (version, hashes, ...) is patched last, so a dataset
   that says "version X" has all of version X's files and tables.

An unchanged package therefore costs three reads and no write.

Faults. Connection errors, timeouts, HTTP 429 and 5xx are transient: the step
is retried with exponential backoff (0.5 s doubling, capped at 8 s) until
``RetryPolicy.deadline`` seconds of continuous failure. A retried step
first reads the state again and decides again, because CKAN may have saved a
write it then failed to confirm (e.g. a 500 from ``organization_create`` when
its search index is down): every create is preceded by a lookup, and "already
exists" is success. A run stopped half-way (crash, Ctrl-C, portal down past
the deadline) leaves a dataset that the next run completes into the same
state as one clean run. Authorisation errors (CKAN answers 403, never 401),
uploads over the portal's limit (409 ``upload: File upload too large``; 413
from a proxy) and validation errors stop the run with a one-line message that
names the dataset or resource.

The API token comes from ``CKAN_API_TOKEN``, the file named by
``CKAN_API_TOKEN_FILE``, or a Prefect Secret block; it travels only in the
``Authorization`` header and is never printed, logged or written anywhere.

The mapping of the package to CKAN's fields, and DCAT through ckanext-dcat, is
documented in ``kehoach.publish.ckan_fields``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kehoach.core.errors import KehoachError
from kehoach.core.settings import settings as portal_settings
from kehoach.publish.ckan_client import ApiError, Backoff, CkanClient, CkanSettings, Transient
from kehoach.publish.ckan_datastore import DatastoreSync, push_tables
from kehoach.publish.ckan_fields import (
    dataset_fields,
    dataset_patch,
    human_size,
    is_managed,
    needs_upload,
    organisation_fields,
    organisation_patch,
    resource_change,
    resource_key,
    resource_order,
    stands_for,
)
from kehoach.publish.ckan_revision import revision
from kehoach.publish.ckan_revision import upload as revision_upload
from kehoach.publish.metadata import dataset_meta
from kehoach.publish.report import PublishReport
from kehoach.publish.snapshot import PackageFile, Snapshot

log = logging.getLogger(__name__)


class CkanPublisher:
    """One publish of a snapshot to one CKAN dataset; see the module docstring."""

    def __init__(self, client: CkanClient, snap: Snapshot, settings: CkanSettings,
                 sleep: Callable[[float], None] = time.sleep):
        self.client = client
        self.snap = snap
        self.files = resource_order(snap.files)  # as the dataset page lists them
        self.meta = dataset_meta(snap)
        self.licence_iri = str(self.meta.licence.get("path") or "")  # dct:license of every distribution
        self.name = settings.dataset or snap.name
        self.org_name = settings.org
        self.retry = settings.retry
        self.sleep = sleep
        self.retries = 0
        self._package: dict | None = None
        self._fresh = False  # is self._package what CKAN holds now?
        self._created: set[str] = set()  # resources this run created

    # -- the run --

    def run(self, dry_run: bool = False) -> PublishReport:
        report = PublishReport("ckan", f"{self.client.url}/dataset/{self.name}", self.name, self.snap.version,
                               dry_run=dry_run)
        self._step("the API token", self._check_token)
        org = self._step(f"organisation {self.org_name!r}", self._find_org)
        pkg = self._step(f"dataset {self.name!r}", self._current)
        if pkg is not None and (org is None or pkg.get("owner_org") != org["id"]):
            owner = (pkg.get("organization") or {}).get("name") or pkg.get("owner_org")
            raise KehoachError(f"dataset {self.name!r} already exists on {self.client.url} in organisation "
                               f"{owner!r}, not {self.org_name!r}; choose another --dataset or --org")
        if dry_run:
            return self._plan(report, pkg)
        org = self._step(f"organisation {self.org_name!r}", lambda: self._ensure_org(org))
        desired = dataset_fields(self.meta, self.name, org["id"])
        if pkg is None:
            self._step(f"dataset {self.name!r}", lambda: self._ensure_dataset(desired))
            report.metadata = "created"
        elif pkg.get("state", "active") != "active":
            self._step(f"dataset {self.name!r}", lambda: self._patch_dataset(desired))
            report.metadata = "updated"
        self._sync_resources(report)
        report.deleted = self._step(f"old resources of dataset {self.name!r}", self._deleter())
        self._step(f"the order of the resources of dataset {self.name!r}", self._reorder)
        self._datastore(report)
        if self._step(f"the metadata of dataset {self.name!r}", lambda: self._patch_dataset(desired)):
            report.metadata = report.metadata if report.metadata != "unchanged" else "updated"
        report.writes = self.client.writes - report.datastore_writes
        report.retries = self.retries
        return report

    def _datastore(self, report: PublishReport) -> None:
        """Push each changed table to the DataStore (one retried step per table)."""
        before = self.client.writes
        sync = DatastoreSync(self.client, self.snap, self._match, self._remember, new=self._created)
        push_tables(sync, lambda what, attempt: self._step(f"{what} in dataset {self.name!r}", attempt), report)
        self._step(f"the DataStore hashes of dataset {self.name!r}", sync.record)
        report.datastore_writes = self.client.writes - before

    def _plan(self, report: PublishReport, pkg: dict | None) -> PublishReport:
        report.datastore = DatastoreSync(self.client, self.snap, self._match, self._remember).planned(pkg)
        if pkg is None:
            report.created = [f.key for f in self.files]
            report.metadata = "created"
            return report
        for f in self.files:
            change = resource_change(self._match(f), f, self.licence_iri)
            getattr(report, change.action if change else "unchanged").append(f.key)
        report.deleted = [resource_key(r) for r in self._stale()]
        if dataset_patch(pkg, dataset_fields(self.meta, self.name, pkg["owner_org"])):
            report.metadata = "updated"
        return report

    # -- retries --

    def _step(self, what: str, attempt: Callable[[], Any], where: Path | None = None) -> Any:
        """Run ``attempt`` until it succeeds; transient failures back off and look at CKAN again."""
        backoff, lost = Backoff(self.retry), 0
        while True:
            try:
                return attempt()
            except Transient as exc:
                delay = backoff.next_wait()
                if delay is None:
                    raise KehoachError(
                        f"CKAN at {self.client.url} did not answer for {backoff.failing_for():.0f} s "
                        f"while publishing {what} ({exc}); run publish again when it is back: "
                        "it continues where this run stopped", where) from None
                log.warning("CKAN: %s while publishing %s; retrying in %.1f s", exc, what, delay)
                self.retries += 1
                self._fresh = False
                self.sleep(delay)
            except ApiError as exc:
                if exc.status == 404 and lost < 3:
                    lost += 1  # changed under us (e.g. deleted by hand): look again
                    self._fresh = False
                    continue
                raise self._explain(exc, what, where) from None

    def _explain(self, exc: ApiError, what: str, where: Path | None) -> KehoachError:
        if exc.status in (401, 403):
            return KehoachError(
                f"CKAN refused {exc.action} for {what} (HTTP {exc.status} {exc.kind}: {exc.message}); the API "
                f"token's user must be allowed to create and edit datasets of organisation {self.org_name!r}",
                where)
        too_large = exc.status == 413 or any("too large" in str(v).lower() for v in exc.fields.values())
        if too_large:
            return KehoachError(
                f"CKAN rejected the upload of {what}: the file is over the portal's upload limit "
                f"(ckan.max_resource_size; CKAN's default is 10 MB): {exc.message}", where)
        if exc.status == 409:
            return KehoachError(f"CKAN rejected {exc.action} for {what}: {exc.message}", where)
        return KehoachError(f"CKAN answered {exc.action} for {what} with HTTP {exc.status} {exc.kind}: "
                            f"{exc.message}", where)

    # -- reads --

    def _check_token(self) -> None:
        try:
            user = self.client.read("user_show")
        except ApiError as exc:
            if exc.status in (400, 409):
                return  # a portal that needs an id here: the first write will tell
            raise
        if user is None:
            raise KehoachError(f"CKAN at {self.client.url} did not accept the API token (unknown, expired or "
                               "revoked: CKAN treats it as anonymous); check CKAN_API_TOKEN, CKAN_API_TOKEN_FILE "
                               "or the Secret block")
        log.debug("CKAN: authenticated as %s", user.get("name"))

    def _find_org(self) -> dict | None:
        return self.client.read("organization_show", {"id": self.org_name, "include_datasets": "false"})

    def _current(self) -> dict | None:
        if not self._fresh:
            self._package = self.client.read("package_show", {"id": self.name})
            self._fresh = True
        return self._package

    def _resources(self) -> list[dict]:
        pkg = self._current()
        return [r for r in (pkg or {}).get("resources") or [] if r.get("state", "active") == "active"]

    def _match(self, f: PackageFile) -> dict | None:
        """The resource that stands for ``f``: same name; one already right, else a managed one."""
        same = [r for r in self._resources() if stands_for(r, f)]
        same.sort(key=lambda r: (needs_upload(r, f), not is_managed(r)))
        return same[0] if same else None

    def _stale(self) -> list[dict]:
        keep = {m["id"] for m in (self._match(f) for f in self.files) if m}
        return [r for r in self._resources() if is_managed(r) and r["id"] not in keep]

    # -- writes: each looks first, so that running it again is harmless --

    def _ensure_org(self, found: dict | None = None) -> dict:
        """The organisation (``found`` by the run's first reads), created or brought in line with the
        publisher's settings (title, description, logo); one that says so already is not written to."""
        desired = organisation_fields(self.org_name, portal_settings())
        org = found if found is not None else self._find_org()
        if org is not None:
            patch = organisation_patch(org, desired)
            if patch:
                log.info("CKAN: updating organisation %s (%s)", self.org_name, ", ".join(sorted(patch)))
                return self.client.write("organization_patch", {"id": org["id"], **patch})
            return org
        try:
            return self.client.write("organization_create", desired)
        except ApiError as exc:
            if exc.status != 409 or "name" not in exc.fields:
                raise
        org = self._find_org()  # created by an earlier attempt (or someone else): success
        if org is None:
            raise KehoachError(f"organisation name {self.org_name!r} is taken on {self.client.url} "
                               "(by a group, or a deleted organisation); choose another --org")
        return org

    def _ensure_dataset(self, desired: dict) -> dict:
        pkg = self._current()
        if pkg is not None:
            return pkg
        try:
            self._package = self.client.write("package_create", desired)
            self._fresh = True
        except ApiError as exc:
            if exc.status != 409 or "name" not in exc.fields:
                raise
            self._fresh = False
            if self._current() is None:
                raise KehoachError(f"dataset name {self.name!r} is taken on {self.client.url} by a dataset this "
                                   "token cannot see; choose another --dataset") from None
        return self._package or {}

    def _patch_dataset(self, desired: dict) -> bool:
        pkg = self._current()
        patch = dataset_patch(pkg or {}, desired)
        if not patch:
            return False
        log.info("CKAN: updating dataset %s (%s)", self.name, ", ".join(sorted(patch)))
        self._package = self.client.write("package_patch", {"id": pkg["id"], **patch})
        self._fresh = True
        return True

    def _sync_resources(self, report: PublishReport) -> None:
        """Every file's resource in one ``package_revise``; when the portal refuses it (a file over its
        upload limit, a proxy's body limit, a field it rejects), one call per file, which names the file."""
        intent: dict[str, str] = {}  # what the first attempt meant, whatever later attempts find
        if not self._step(f"the resources of dataset {self.name!r}", self._batch(intent)):
            intent.clear()  # nothing of the refused call was saved
            for f in self.files:
                what = f"resource {f.key!r} ({f.path}, {human_size(f.size)}) of dataset {self.name!r}"
                intent.setdefault(f.key, self._step(what, self._resource_sync(f), where=self.snap.source / f.path))
        for f in self.files:
            getattr(report, intent.get(f.key, "unchanged")).append(f.key)

    def _batch(self, intent: dict[str, str]) -> Callable[[], bool]:
        """One attempt at writing every resource that differs in one ``package_revise``
        (``kehoach.publish.ckan_revision``). False: the portal refused it."""

        def attempt() -> bool:
            pkg = self._current()
            rev = revision(pkg["id"], self.snap, self.files, self._match, self.licence_iri)
            for key, action in rev.actions.items():
                intent.setdefault(key, action)
            if not rev.actions:
                return True
            log.info("CKAN: writing %d resources of %s in one package_revise (%d files)", len(rev.actions),
                     self.name, len(rev.uploads))
            before = {r["id"] for r in pkg.get("resources") or []}
            try:
                result = self.client.write("package_revise", rev.data, rev.uploads)
            except ApiError as exc:
                if exc.status in (401, 403, 404):
                    raise
                log.info("CKAN: %s; writing the resources of %s one by one", exc, self.name)
                self._fresh = False
                return False
            self._package, self._fresh = result["package"], True
            self._created.update(r["id"] for r in self._package["resources"] if r["id"] not in before)
            return True

        return attempt

    def _resource_sync(self, f: PackageFile) -> Callable[[], str]:
        intent: list[str] = []  # what the first write meant, whatever later attempts find

        def attempt() -> str:
            current = self._match(f)
            change = resource_change(current, f, self.licence_iri)
            if change is None:
                return intent[0] if intent else "unchanged"
            intent.append(change.action)
            upload = {"upload": revision_upload(self.snap, f)} if change.upload else None
            if current is None:
                log.info("CKAN: uploading %s (%s, %s)", f.key, f.path, human_size(f.size))
                result = self.client.write("resource_create", {"package_id": self._current()["id"], **change.fields},
                                           upload)
                self._created.add(result["id"])
            elif change.upload:
                log.info("CKAN: re-uploading %s (%s, %s)", f.key, f.path, human_size(f.size))
                result = self.client.write("resource_patch", {"id": current["id"], **change.fields}, upload)
            else:
                log.info("CKAN: updating the metadata of %s (%s)", f.key, ", ".join(sorted(change.fields)))
                result = self.client.write("resource_patch", {"id": current["id"], **change.fields})
            self._remember(result)
            return intent[0]

        return attempt

    def _remember(self, resource: dict) -> None:
        """Keep the cached package in step with a resource we just wrote."""
        if self._package is None:
            self._fresh = False
            return
        resources = [r for r in self._package.get("resources") or [] if r.get("id") != resource.get("id")]
        position = next((i for i, r in enumerate(self._package.get("resources") or [])
                         if r.get("id") == resource.get("id")), len(resources))
        resources.insert(position, resource)
        self._package["resources"] = resources

    def _deleter(self) -> Callable[[], list[str]]:
        deleted: list[str] = []

        def attempt() -> list[str]:
            for resource in self._stale():
                log.info("CKAN: deleting resource %s (%s), no longer in the package", resource.get("name"),
                         resource["id"])
                self.client.write("resource_delete", {"id": resource["id"]})
                deleted.append(resource_key(resource))
                self._package["resources"] = [r for r in self._package["resources"] if r["id"] != resource["id"]]
            return deleted

        return attempt

    def _reorder(self) -> None:
        wanted = [m["id"] for m in (self._match(f) for f in self.files) if m]
        have = [r["id"] for r in self._resources() if r["id"] in set(wanted)]
        if have != wanted:
            self.client.write("package_resource_reorder", {"id": self._current()["id"], "order": wanted})
            self._fresh = False


def publish_ckan(snap: Snapshot, settings: CkanSettings, *, dry_run: bool = False,
                 client_hook: Callable[[CkanClient], None] | None = None) -> PublishReport:
    """Publish a checked snapshot to CKAN (``kehoach.publish.targets.publish`` calls this)."""
    client = CkanClient(settings.url, settings.token(), timeout=settings.timeout)
    if client_hook is not None:
        client_hook(client)  # tests attach fault injection here
    try:
        return CkanPublisher(client, snap, settings).run(dry_run=dry_run)
    finally:
        client.close()
