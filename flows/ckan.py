"""Publishing to a CKAN portal through its Action API (httpx), idempotently.

How a sync goes (``CkanPublisher.run``):

1. reads only: ``user_show`` (is the token accepted?), ``organization_show``,
   ``package_show`` (by name; never ``package_search``, whose index may lag);
2. writes only what differs: the organisation and the dataset when missing,
   then one resource per file of the package, matched by ``name``: created,
   re-uploaded when its sha256 (``hash``) or size differs, patched when only
   its metadata differs; managed resources that left the package are deleted;
3. the dataset metadata (version, hashes, ...) is patched last, so a dataset
   that says "version X" has all of version X's files.

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

Field mapping (CKAN core fields and free extras, laid out for ckanext-dcat's
``euro_dcat_ap``/``euro_dcat_ap_2`` profiles, which read extras as DCAT):

==========================  =================================  ==========================
CKAN dataset field          from the package                   DCAT (ckanext-dcat)
==========================  =================================  ==========================
name                        descriptor ``name`` made slug-safe  -
                            (or ``--dataset``)
title                       ``title`` ("vi — en")              dct:title
notes                       description vi + en, source,       dct:description
                            licence note (Markdown)
license_id                  ``licenses[0].name`` (CC-BY-4.0    dct:license (via CKAN's
                            -> cc-by)                          licence register)
version                     ``version``                        owl:versionInfo
url                         first source ``url`` (if any)      dcat:landingPage
tags                        ``keywords``                       dcat:keyword
owner_org                   ``--org`` / CKAN_ORGANIZATION      dct:publisher (fallback)
extras identifier           descriptor ``name``                dct:identifier
extras modified             ``created`` of this version        dct:modified
(issued)                    not sent: CKAN's metadata_created  dct:issued
extras language             ``language`` as a JSON list        dct:language
extras conforms_to          ["…/data-package/"]                dct:conformsTo
extras temporal_start/_end  plans.plan_year (1 Jan–31 Dec)     dct:temporal
extras provenance           generator + sources                dct:provenance
extras title_vi/title_en,   the bilingual texts                -
  description_vi/_en
extras plan_number,         plans (or sources): number,        -
  plan_issuer,              issuer, issued date ("; " joined)
  plan_issued_date
extras source_sha256        sources' sha256 (", " joined)      -
extras content_sha256       ``content_sha256``                 -
extras kehoach_managed,     "true", ``generator``              -
  kehoach_generator
==========================  =================================  ==========================

Each resource: ``name`` = the Frictionless resource name (``tasks``,
``tasks-parquet``, …; ``datapackage`` for datapackage.json and
``datapackage-zip`` for the zip), ``description`` = bilingual title and
description plus the field list of its Table Schema (Markdown), ``format``,
``mimetype`` (dcat:mediaType), ``hash`` = sha256 hex and ``hash_algorithm`` =
SPDX sha256 (spdx:checksum), ``size`` (dcat:byteSize; CKAN sets it from the
upload anyway), ``rows``, ``schema`` (the Table Schema as JSON, which
ckanext-validation reads), ``conforms_to`` (Table Schema spec, tables only),
``title_vi``/``title_en``, and ``kehoach_managed`` = "true",
``kehoach_path``, ``kehoach_role``. Only resources marked
``kehoach_managed`` are ever deleted.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from . import __version__
from .errors import KehoachError
from .publish import (
    DATA_PACKAGE_SPEC,
    FORMATS,
    TABLE_SCHEMA_SPEC,
    DatasetMeta,
    PackageFile,
    PublishReport,
    Snapshot,
    check_name,
    dataset_meta,
)

log = logging.getLogger(__name__)

DEFAULT_ORG = "kehoach"
SPDX_SHA256 = "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"
LICENCES = {"CC-BY-4.0": "cc-by", "CC-BY-SA-4.0": "cc-by-sa", "CC0-1.0": "cc-zero", "ODC-BY-1.0": "odc-by",
            "ODBL-1.0": "odc-odbl", "PDDL-1.0": "odc-pddl", "OGL-UK-3.0": "uk-ogl"}
# Every extra this tool may write: one it no longer writes is removed, others are kept.
MANAGED_EXTRAS = ("title_vi", "title_en", "description_vi", "description_en", "identifier", "modified",
                  "language", "conforms_to", "provenance", "temporal_start", "temporal_end", "plan_number",
                  "plan_issuer", "plan_issued_date", "source_sha256", "content_sha256", "kehoach_managed",
                  "kehoach_generator")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


# ------------------------------------------------------------ configuration ---

class Token:
    """The API token. Its repr and str are masked, so logging it by mistake leaks nothing."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value.strip()

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Token(***)"

    __str__ = __repr__


@dataclass(frozen=True)
class RetryPolicy:
    initial: float = 0.5  # first delay, seconds
    cap: float = 8.0  # longest delay
    deadline: float = 120.0  # give up after this long without success


@dataclass
class CkanSettings:
    url: str
    org: str
    dataset: str | None = None
    token_block: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 60.0

    def check(self) -> None:
        """Everything that can be checked without a request (and without reading a Secret block)."""
        if not self.url:
            raise KehoachError("the CKAN target needs the portal's address: set CKAN_URL or use --ckan-url "
                               "(local CKAN: scripts/ckan/local-ckan.sh start, then set -a; . .local/ckan/env)")
        if urlsplit(self.url).scheme not in ("http", "https") or not urlsplit(self.url).netloc:
            raise KehoachError(f"CKAN_URL {self.url!r} is not an http(s) address")
        check_name(self.org, "organisation name")
        if self.dataset:
            check_name(self.dataset, "dataset name")
        if not self.token_block:
            token_from_env()

    def token(self) -> Token:
        return token_from_block(self.token_block) if self.token_block else token_from_env()


def settings(*, ckan_url: str | None = None, org: str | None = None, dataset: str | None = None,
             token_block: str | None = None, retry_deadline: float | None = None) -> CkanSettings:
    retry = RetryPolicy(deadline=retry_deadline) if retry_deadline is not None else RetryPolicy()
    return CkanSettings(
        url=(ckan_url or os.environ.get("CKAN_URL", "")).strip().rstrip("/"),
        org=(org or os.environ.get("CKAN_ORGANIZATION") or DEFAULT_ORG).strip(),
        dataset=dataset or None, token_block=token_block or None, retry=retry,
    )


def token_from_env(env: dict[str, str] | os._Environ[str] = os.environ) -> Token:
    value = env.get("CKAN_API_TOKEN", "").strip()
    if value:
        return Token(value)
    path = env.get("CKAN_API_TOKEN_FILE", "").strip()
    if path:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise KehoachError(f"cannot read the CKAN API token file: {exc.strerror}", path) from None
        if not value:
            raise KehoachError("the CKAN API token file is empty", path)
        return Token(value)
    raise KehoachError("no CKAN API token: set CKAN_API_TOKEN, or CKAN_API_TOKEN_FILE to a file holding it, "
                       "or use --token-block NAME (a Prefect Secret block)")


def token_from_block(name: str) -> Token:
    from prefect.blocks.system import Secret

    try:
        value = Secret.load(name).get()
    except ValueError:
        raise KehoachError(f"no Prefect Secret block named {name!r}") from None
    if not isinstance(value, str) or not value.strip():
        raise KehoachError(f"Prefect Secret block {name!r} does not hold a token string")
    return Token(value)


# ------------------------------------------------------------------- client ---

class Transient(Exception):
    """The portal did not answer, or answered 429/5xx: worth trying again."""


class ApiError(Exception):
    """CKAN answered with an error (not transient)."""

    def __init__(self, action: str, status: int, error: dict):
        self.action = action
        self.status = status
        self.error = error
        super().__init__(f"{action}: HTTP {status} {self.kind}: {self.message}")

    @property
    def kind(self) -> str:
        return str(self.error.get("__type") or "error")

    @property
    def message(self) -> str:
        if self.error.get("message"):
            return " ".join(str(self.error["message"]).split())
        return "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                         for k, v in self.fields.items()) or "no details"

    @property
    def fields(self) -> dict:
        return {k: v for k, v in self.error.items() if k not in ("__type", "message")}


class CkanClient:
    """Thin Action API client: one method for reads, one for writes (counted)."""

    def __init__(self, url: str, token: Token, *, timeout: float = 60.0):
        self.url = url.rstrip("/")
        host = urlsplit(self.url).hostname or ""
        self._http = httpx.Client(
            base_url=f"{self.url}/api/3/action/",
            headers={"Authorization": token.reveal(), "User-Agent": f"kehoach/{__version__}"},
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            # a proxy can never reach this machine's loopback
            trust_env=host not in LOOPBACK,
        )
        self.reads = 0
        self.writes = 0  # write calls made, whatever their outcome
        # Called after every successful write with the action name (tests use it to inject faults).
        self.after_write: list[Callable[[str], None]] = []

    def close(self) -> None:
        self._http.close()

    def read(self, action: str, params: dict | None = None) -> Any | None:
        """GET an action; None when CKAN says 404 (not found)."""
        self.reads += 1
        try:
            return self._result(action, self._send(action, lambda: self._http.get(action, params=params or {})))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def write(self, action: str, data: dict, upload: tuple[str, Path, str] | None = None) -> Any:
        """POST an action, as JSON or, with ``upload`` = (filename, path, mimetype), as multipart."""
        self.writes += 1
        if upload is None:
            response = self._send(action, lambda: self._http.post(action, json=data))
        else:
            filename, path, mimetype = upload
            fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}

            def post() -> httpx.Response:
                with path.open("rb") as handle:  # reopened on every attempt
                    return self._http.post(action, data=fields, files={"upload": (filename, handle, mimetype)})

            response = self._send(action, post)
        result = self._result(action, response)
        for hook in self.after_write:
            hook(action)
        return result

    @staticmethod
    def _send(action: str, request: Callable[[], httpx.Response]) -> httpx.Response:
        # Messages are built here from the exception type and text only:
        # neither carries the request headers (so never the token).
        try:
            return request()
        except httpx.TimeoutException as exc:
            raise Transient(f"{action}: {type(exc).__name__}") from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise Transient(f"{action}: {type(exc).__name__}: {exc}") from None

    @staticmethod
    def _result(action: str, response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = None
        status = response.status_code
        if status == 200 and isinstance(body, dict) and body.get("success") is True:
            return body.get("result")
        if status == 429 or status >= 500:
            raise Transient(f"{action}: HTTP {status}")
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            error = {"message": response.text[:200] or response.reason_phrase}
        raise ApiError(action, status, error)


# ------------------------------------------------------------------ mapping ---

def _s(value: Any) -> str:
    """CKAN gives back None, '' or numbers where we sent strings: compare as text."""
    return "" if value is None else str(value)


def _norm_hash(value: Any) -> str:
    return _s(value).strip().lower().removeprefix("sha256:")


def tags(keywords: list[str]) -> list[str]:
    """Keywords as CKAN tags (2-100 characters of letters, digits, space, '-', '_', '.')."""
    out: list[str] = []
    for kw in keywords:
        tag = " ".join(re.sub(r"[^\w \-.]", " ", kw).split())[:100].strip()
        if len(tag) >= 2 and tag not in out:
            out.append(tag)
    return out


def notes(meta: DatasetMeta) -> str:
    parts = [meta.description_vi, meta.description_en]
    for s in meta.sources:
        facts = ", ".join(str(s[k]) for k in ("number", "issuer", "issued_date") if s.get(k))
        digest = _norm_hash(s.get("hash"))
        parts.append(f"**Nguồn / Source:** {s.get('title', '')}" + (f" ({facts})" if facts else "")
                     + (f", sha256 `{digest}`" if digest else ""))
    licence = meta.licence.get("title") or meta.licence.get("name")
    if licence:
        parts.append(f"**Giấy phép / Licence:** {licence}. {meta.licence_note_vi} {meta.licence_note_en}".strip())
    return "\n\n".join(p for p in parts if p)


def dataset_fields(meta: DatasetMeta, name: str, org_id: str) -> dict:
    """The CKAN dataset (without resources) for a package; see the module docstring."""
    start, end = meta.temporal
    extras = {
        "title_vi": meta.title_vi,
        "title_en": meta.title_en,
        "description_vi": meta.description_vi,
        "description_en": meta.description_en,
        "identifier": meta.name,
        "modified": meta.created,
        "language": json.dumps(meta.language) if meta.language else "",
        "conforms_to": json.dumps([DATA_PACKAGE_SPEC]),
        "provenance": meta.provenance,
        "temporal_start": start,
        "temporal_end": end,
        "plan_number": "; ".join(meta.plan_numbers),
        "plan_issuer": "; ".join(meta.plan_issuers),
        "plan_issued_date": "; ".join(meta.plan_issued_dates),
        "source_sha256": ", ".join(meta.source_sha256),
        "content_sha256": meta.content_sha256,
        "kehoach_managed": "true",
        "kehoach_generator": meta.generator,
    }
    licence = str(meta.licence.get("name") or "")
    return {
        "name": name,
        "title": meta.title,
        "notes": notes(meta),
        "owner_org": org_id,
        "license_id": LICENCES.get(licence.upper(), licence.lower() or "notspecified"),
        "version": meta.version,
        "url": meta.landing_page,
        "private": False,
        "tags": [{"name": t} for t in tags(meta.keywords)],
        "extras": [{"key": k, "value": v} for k, v in sorted(extras.items()) if v],
    }


def dataset_patch(current: dict, desired: dict) -> dict:
    """The fields of ``desired`` that differ in ``current`` (empty: nothing to write)."""
    patch: dict[str, Any] = {}
    for key in ("title", "notes", "license_id", "version", "url"):
        if _s(current.get(key)) != _s(desired[key]):
            patch[key] = desired[key]
    if bool(current.get("private")) != desired["private"]:
        patch["private"] = desired["private"]
    if current.get("state", "active") != "active":
        patch["state"] = "active"  # deleted but not purged: bring it back
    if sorted(t.get("name") for t in current.get("tags") or []) != sorted(t["name"] for t in desired["tags"]):
        patch["tags"] = desired["tags"]
    have = {e["key"]: e.get("value") for e in current.get("extras") or []}
    want = {e["key"]: e["value"] for e in desired["extras"]}
    stale = [k for k in MANAGED_EXTRAS if k in have and k not in want]
    if stale or any(_s(have.get(k)) != v for k, v in want.items()):
        foreign = [{"key": k, "value": v} for k, v in sorted(have.items()) if k not in MANAGED_EXTRAS]
        patch["extras"] = foreign + desired["extras"]
    return patch


def resource_description(f: PackageFile) -> str:
    head = " — ".join(t for t in (f.title_vi, f.title) if t)
    parts = [f"**{head}**" if head else "", f.description_vi, f.description]
    fields = (f.schema or {}).get("fields") or []
    if fields:
        lines = ["Cột / Fields:"]
        for fd in fields:
            titles = " / ".join(t for t in (fd.get("title_vi"), fd.get("title")) if t)
            lines.append(f"- `{fd.get('name')}` ({fd.get('type', 'any')})" + (f": {titles}" if titles else ""))
        key = (f.schema or {}).get("primaryKey")
        if key:
            key = [key] if isinstance(key, str) else key
            lines.append(f"\nKhóa chính / Primary key: {', '.join(f'`{k}`' for k in key)}")
        parts.append("\n".join(lines))
    return "\n\n".join(p for p in parts if p)


def resource_fields(f: PackageFile) -> dict[str, str]:
    """The CKAN resource for a file (strings only: they go out as multipart form fields)."""
    fields = {
        "name": f.key,
        "description": resource_description(f),
        "format": FORMATS.get(f.format, f.format.upper()),
        "mimetype": f.mediatype,
        "hash": f.sha256,
        "hash_algorithm": SPDX_SHA256,
        "size": str(f.size),
        "kehoach_managed": "true",
        "kehoach_path": f.path,
        "kehoach_role": f.role,
    }
    if f.title:
        fields["title_en"] = f.title
    if f.title_vi:
        fields["title_vi"] = f.title_vi
    if f.rows is not None:
        fields["rows"] = str(f.rows)
    if f.schema:
        fields["schema"] = json.dumps(f.schema, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        fields["conforms_to"] = json.dumps([TABLE_SCHEMA_SPEC])
    return fields


def _managed(resource: dict) -> bool:
    return _s(resource.get("kehoach_managed")).lower() == "true"


def needs_upload(current: dict, f: PackageFile) -> bool:
    return (current.get("url_type") != "upload" or _norm_hash(current.get("hash")) != f.sha256
            or _s(current.get("size")) != str(f.size))


def resource_patch(current: dict, f: PackageFile) -> dict[str, str]:
    return {k: v for k, v in resource_fields(f).items() if _s(current.get(k)) != v}


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n} bytes"


# ------------------------------------------------------------------- syncer ---

class CkanPublisher:
    """One publish of a snapshot to one CKAN dataset; see the module docstring."""

    def __init__(self, client: CkanClient, snap: Snapshot, settings: CkanSettings,
                 sleep: Callable[[float], None] = time.sleep):
        self.client = client
        self.snap = snap
        self.meta = dataset_meta(snap)
        self.name = settings.dataset or snap.name
        self.org_name = settings.org
        self.retry = settings.retry
        self.sleep = sleep
        self.retries = 0
        self._package: dict | None = None
        self._fresh = False  # is self._package what CKAN holds now?

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
        if org is None:
            org = self._step(f"organisation {self.org_name!r}", self._ensure_org)
        desired = dataset_fields(self.meta, self.name, org["id"])
        if pkg is None:
            self._step(f"dataset {self.name!r}", lambda: self._ensure_dataset(desired))
            report.metadata = "created"
        elif pkg.get("state", "active") != "active":
            self._step(f"dataset {self.name!r}", lambda: self._patch_dataset(desired))
            report.metadata = "updated"
        for f in self.snap.files:
            what = f"resource {f.key!r} ({f.path}, {_size(f.size)}) of dataset {self.name!r}"
            action = self._step(what, self._resource_sync(f), where=self.snap.source / f.path)
            getattr(report, action).append(f.key)
        report.deleted = self._step(f"old resources of dataset {self.name!r}", self._deleter())
        self._step(f"the order of the resources of dataset {self.name!r}", self._reorder)
        if self._step(f"the metadata of dataset {self.name!r}", lambda: self._patch_dataset(desired)):
            report.metadata = report.metadata if report.metadata != "unchanged" else "updated"
        report.writes = self.client.writes
        report.retries = self.retries
        return report

    def _plan(self, report: PublishReport, pkg: dict | None) -> PublishReport:
        if pkg is None:
            report.created = [f.key for f in self.snap.files]
            report.metadata = "created"
            return report
        for f in self.snap.files:
            current = self._match(f)
            action = "created" if current is None else (
                "updated" if needs_upload(current, f) or resource_patch(current, f) else "unchanged")
            getattr(report, action).append(f.key)
        report.deleted = [r["name"] for r in self._stale()]
        if dataset_patch(pkg, dataset_fields(self.meta, self.name, pkg["owner_org"])):
            report.metadata = "updated"
        return report

    # -- retries --

    def _step(self, what: str, attempt: Callable[[], Any], where: Path | None = None) -> Any:
        """Run ``attempt`` until it succeeds; transient failures back off and look at CKAN again."""
        delay, failing_since, lost = self.retry.initial, None, 0
        while True:
            try:
                return attempt()
            except Transient as exc:
                now = time.monotonic()
                failing_since = failing_since or now
                if now - failing_since + delay > self.retry.deadline:
                    raise KehoachError(
                        f"CKAN at {self.client.url} did not answer for {now - failing_since:.0f} s "
                        f"while publishing {what} ({exc}); run publish again when it is back: "
                        "it continues where this run stopped", where) from None
                log.warning("CKAN: %s while publishing %s; retrying in %.1f s", exc, what, delay)
                self.retries += 1
                self._fresh = False
                self.sleep(delay)
                delay = min(delay * 2, self.retry.cap)
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
        same = [r for r in self._resources() if r.get("name") == f.key]
        same.sort(key=lambda r: (needs_upload(r, f), not _managed(r)))
        return same[0] if same else None

    def _stale(self) -> list[dict]:
        keep = {m["id"] for m in (self._match(f) for f in self.snap.files) if m}
        return [r for r in self._resources() if _managed(r) and r["id"] not in keep]

    # -- writes: each looks first, so that running it again is harmless --

    def _ensure_org(self) -> dict:
        org = self._find_org()
        if org is not None:
            return org
        try:
            return self.client.write("organization_create", {"name": self.org_name, "title": self.org_name})
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

    def _resource_sync(self, f: PackageFile) -> Callable[[], str]:
        intent: list[str] = []  # what the first write meant, whatever later attempts find

        def attempt() -> str:
            current = self._match(f)
            fields = resource_fields(f)
            upload = (f.filename, self.snap.local(f), f.mediatype)
            if current is None:
                intent.append("created")
                log.info("CKAN: uploading %s (%s, %s)", f.key, f.path, _size(f.size))
                result = self.client.write("resource_create", {"package_id": self._current()["id"], **fields}, upload)
                self._remember(result)
            elif needs_upload(current, f):
                intent.append("updated")
                log.info("CKAN: re-uploading %s (%s, %s)", f.key, f.path, _size(f.size))
                result = self.client.write("resource_patch", {"id": current["id"], **fields}, upload)
                self._remember(result)
            elif patch := resource_patch(current, f):
                intent.append("updated")
                log.info("CKAN: updating the metadata of %s (%s)", f.key, ", ".join(sorted(patch)))
                self._remember(self.client.write("resource_patch", {"id": current["id"], **patch}))
            return intent[0] if intent else "unchanged"

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
                deleted.append(str(resource.get("name")))
                self._package["resources"] = [r for r in self._package["resources"] if r["id"] != resource["id"]]
            return deleted

        return attempt

    def _reorder(self) -> None:
        wanted = [m["id"] for m in (self._match(f) for f in self.snap.files) if m]
        have = [r["id"] for r in self._resources() if r["id"] in set(wanted)]
        if have != wanted:
            self.client.write("package_resource_reorder", {"id": self._current()["id"], "order": wanted})
            self._fresh = False


def publish_ckan(snap: Snapshot, settings: CkanSettings, *, dry_run: bool = False,
                 client_hook: Callable[[CkanClient], None] | None = None) -> PublishReport:
    """Publish a checked snapshot to CKAN (``flows.publish.publish`` calls this)."""
    client = CkanClient(settings.url, settings.token(), timeout=settings.timeout)
    if client_hook is not None:
        client_hook(client)  # tests attach fault injection here
    try:
        return CkanPublisher(client, snap, settings).run(dry_run=dry_run)
    finally:
        client.close()
