"""Withdrawing a dataset from CKAN: the dataset of a plan that left the corpus.

``package_delete`` is CKAN's soft delete: the dataset's state becomes
``deleted``, it leaves searches, listings and the organisation's page, and
its page answers 404 to the public, but nothing is purged: a sysadmin sees
and restores it (state ``active``), and publishing the plan again restores
it too (``kehoach.publish.ckan_fields.dataset_patch``). Only a dataset that
kehoach manages, in the organisation being published to, is withdrawn.

Transient faults are retried as for publishing (``RetryPolicy``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from kehoach.core.errors import KehoachError
from kehoach.publish.ckan_client import ApiError, Backoff, CkanClient, CkanSettings, Transient

log = logging.getLogger(__name__)
MANAGED = "kehoach_managed"


def withdraw_ckan(name: str, settings: CkanSettings, *, client_hook: Callable[[CkanClient], None] | None = None,
                  sleep: Callable[[float], None] = time.sleep) -> bool:
    """Soft-delete dataset ``name``; False when there is nothing to withdraw (gone, or deleted already)."""
    client = CkanClient(settings.url, settings.token(), timeout=settings.timeout)
    if client_hook is not None:
        client_hook(client)
    try:
        return _retried(lambda: _withdraw(client, name, settings.org), settings, name, sleep)
    finally:
        client.close()


def _withdraw(client: CkanClient, name: str, org: str) -> bool:
    pkg = client.read("package_show", {"id": name})
    if pkg is None or pkg.get("state") == "deleted":
        return False
    extras = {e.get("key"): e.get("value") for e in pkg.get("extras") or []}
    owner = (pkg.get("organization") or {}).get("name")
    if extras.get(MANAGED) != "true" or owner != org:
        raise KehoachError(f"dataset {name!r} on {client.url} is not one kehoach publishes in organisation "
                           f"{org!r} (it is in {owner!r}); not withdrawn")
    log.info("CKAN: withdrawing dataset %s (package_delete: recoverable)", name)
    client.write("package_delete", {"id": pkg["id"]})
    return True


def _retried(attempt: Callable[[], Any], settings: CkanSettings, name: str, sleep: Callable[[float], None]) -> Any:
    backoff = Backoff(settings.retry)
    while True:
        try:
            return attempt()
        except Transient as exc:
            delay = backoff.next_wait()
            if delay is None:
                raise KehoachError(f"CKAN at {settings.url} did not answer for {backoff.failing_for():.0f} s while "
                                   f"withdrawing dataset {name!r} ({exc}); run publish again when it is back") from None
            log.warning("CKAN: %s while withdrawing %s; retrying in %.1f s", exc, name, delay)
            sleep(delay)
        except ApiError as exc:
            raise KehoachError(f"CKAN answered {exc.action} for dataset {name!r} with HTTP {exc.status} "
                               f"{exc.kind}: {exc.message}") from None
