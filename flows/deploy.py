"""Scheduled and event-driven refreshes: a served Prefect deployment.

``kehoach serve`` serves the ``refresh_package`` flow as a deployment with a
cron schedule (default: every day at 06:00 Asia/Ho_Chi_Minh) and an event
trigger: an event ``kehoach.source.amended`` (sent by ``kehoach announce``,
or by any system that can post Prefect events) starts a run at once. A
refresh whose inputs did not change does nothing, so both may fire freely.

Serving needs a long-lived Prefect server (``prefect server start``) and
``PREFECT_API_URL`` pointing at it; see the README for running it with a work
pool and workers instead.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from prefect.events import DeploymentEventTrigger, emit_event
from prefect.events.worker import EventsWorker
from prefect.schedules import Cron
from prefect.settings import PREFECT_API_URL

from flows.pipeline import refresh_package
from flows.schedule import DEFAULT_CRON, DEFAULT_TIMEZONE, DEPLOYMENT_NAME
from kehoach.core.errors import KehoachError

EVENT_AMENDED = "kehoach.source.amended"
RESOURCE_PREFIX = "kehoach.source."


def require_api() -> str:
    """The long-lived server's address (environment or Prefect profile)."""
    url = os.environ.get("PREFECT_API_URL") or PREFECT_API_URL.value()
    if not url:
        raise KehoachError(
            "PREFECT_API_URL is not set: start a server with 'prefect server start' and export "
            "PREFECT_API_URL=http://127.0.0.1:4200/api (schedules and event triggers need a long-lived server)"
        )
    return url


def amended_trigger():
    return DeploymentEventTrigger(
        name="source amended",
        description="Run at once when a plan text is announced as amended.",
        expect={EVENT_AMENDED},
        match={"prefect.resource.id": f"{RESOURCE_PREFIX}*"},
        posture="Reactive",
        threshold=1,
        within=0,
    )


def serve(
    sources: list[str],
    out: str,
    target: str | None = None,
    cron: str = DEFAULT_CRON,
    timezone: str = DEFAULT_TIMEZONE,
    name: str = DEPLOYMENT_NAME,
    org: str | None = None,
    dataset: str | None = None,
    source_urls: dict[str, str] | None = None,
) -> None:
    """Serve the refresh deployment until interrupted (blocks)."""
    require_api()
    refresh_package.serve(
        name=name,
        schedules=[Cron(cron, timezone=timezone)],
        triggers=[amended_trigger()],
        parameters={"sources": sources, "out": out, "target": target, "org": org, "dataset": dataset,
                    "source_urls": source_urls},
        global_limit=1,  # one refresh at a time; the output lock is the second line of defence
        description="Rebuild the kehoach package when a plan text changes, and publish a new version.",
        tags=["kehoach"],
        pause_on_shutdown=False,
    )


def announce(paths: list[str | Path]) -> list[str]:
    """Emit one 'source amended' event per file; returns the event ids."""
    require_api()
    # Events are sent by a background worker; its "still processing" note
    # while we wait for delivery below is noise.
    logging.getLogger("EventsWorker").setLevel(logging.ERROR)
    ids = []
    for entry in paths:
        path = Path(entry)
        if not path.is_file():
            raise KehoachError("no such file", path)
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        event = emit_event(
            event=EVENT_AMENDED,
            resource={"prefect.resource.id": f"{RESOURCE_PREFIX}{path.name}", "prefect.resource.name": path.name},
            payload={"path": str(path.resolve()), "sha256": sha256},
        )
        if event is None:
            raise KehoachError("the Prefect server did not accept the event", path)
        ids.append(str(event.id))
    EventsWorker.drain_all(timeout=60)  # delivered before we say so
    return ids
