"""CKAN settings (address, organisation, token) and a thin Action API client.

The token is read from ``CKAN_API_TOKEN``, ``CKAN_API_TOKEN_FILE`` or a
Prefect Secret block; it travels only in the ``Authorization`` header and
its repr is masked. Transient faults (connection errors, timeouts, 429, 5xx)
raise ``Transient`` so the publisher can retry them.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from prefect.blocks.system import Secret

from kehoach import __version__
from kehoach.core.errors import KehoachError
from kehoach.publish.snapshot import check_name

log = logging.getLogger(__name__)

DEFAULT_ORG = "kehoach"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# A file to upload: (filename, path, mimetype).
Upload = tuple[str, Path, str]


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


class Backoff:
    """The waits between attempts of one step under a ``RetryPolicy``: doubling
    up to the cap, none once the portal has failed for longer than the deadline."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.delay = policy.initial
        self.failing_since: float | None = None

    def next_wait(self) -> float | None:
        """Seconds to wait before trying again; None: give up."""
        now = time.monotonic()
        self.failing_since = self.failing_since or now
        if now - self.failing_since + self.delay > self.policy.deadline:
            return None
        wait, self.delay = self.delay, min(self.delay * 2, self.policy.cap)
        return wait

    def failing_for(self) -> float:
        return time.monotonic() - (self.failing_since or time.monotonic())


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
                               "(local CKAN: scripts/ckan/local-ckan.sh start, "
                               "then set -a; . \"$(scripts/ckan/local-ckan.sh home)/env\")")
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

    def write(self, action: str, data: dict, uploads: dict[str, Upload] | None = None) -> Any:
        """POST an action, as JSON or, with ``uploads`` (form field -> (filename, path, mimetype)), as
        multipart: one file (``{"upload": ...}``) or several (``package_revise``'s
        ``update__resources__N__upload``)."""
        self.writes += 1
        if not uploads:
            response = self._send(action, lambda: self._http.post(action, json=data))
        else:
            fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}

            def post() -> httpx.Response:
                with ExitStack() as stack:  # reopened on every attempt
                    files = {name: (filename, stack.enter_context(path.open("rb")), mimetype)
                             for name, (filename, path, mimetype) in uploads.items()}
                    return self._http.post(action, data=fields, files=files)

            response = self._send(action, post)
        result = self._result(action, response)
        for hook in self.after_write:
            hook(action)
        return result

    @staticmethod
    def _send(action: str, request: Callable[[], httpx.Response]) -> httpx.Response:
        # Messages are built here from the exception type and text only:
        # neither carries the request headers (so never the token).
        started = time.monotonic()
        try:
            response = request()
            # each action's time in CKAN, to see where a publish spends it (--log-level DEBUG)
            log.debug("CKAN: %s answered HTTP %d in %.3f s", action, response.status_code,
                      time.monotonic() - started)
            return response
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
