"""Where the parse tasks run: in the flow's process, or on a Dask cluster.

- ``KEHOACH_DASK_ADDRESS=tcp://host:8786``: on that Dask scheduler (a real
  cluster; its workers need this checkout installed and the sources at the
  same paths, e.g. a shared filesystem: a task reads its texts and checks
  their sha256; ``KEHOACH_WORKERS``: its number of worker processes, to size
  the batches);
- otherwise, for a corpus of at least ``KEHOACH_PARALLEL_FROM`` sources
  (default 32) and more than one worker (``KEHOACH_WORKERS``, default the
  number of CPUs): a ``distributed.LocalCluster`` of that many worker
  processes, started for the parse and closed after it. Its workers import
  the flow's code as they start (a preload), not at their first task. The
  CLI starts that cluster ahead (``cluster_ahead``), as soon as it knows the
  corpus will be parsed, so that the workers come up while the Prefect
  server starts and the sources are read; the parse then uses it. On a
  loaded machine (a 1-minute load average of at least one a core) the
  cluster is started only once the temporary server answers: starting
  both at once, the workers' imports took the cores the server's first
  start (its database migrations) needed (see the README's figures);
- otherwise in the flow's own process: starting a cluster costs seconds,
  more than parsing a few plans, and one plan must stay as fast as a
  trivial flow.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from distributed import LocalCluster
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect_dask import DaskTaskRunner

from kehoach.core.settings import whole_number

DASK_ADDRESS_ENV = "KEHOACH_DASK_ADDRESS"
WORKERS_ENV = "KEHOACH_WORKERS"
PARALLEL_FROM_ENV = "KEHOACH_PARALLEL_FROM"
PARALLEL_FROM = 32
BATCHES_PER_WORKER = 4
# Imported by each local worker as it starts: the parse tasks' module (Prefect, the parser).
WORKER_PRELOAD = ["flows.parse_tasks"]
# A local worker's Arrow memory comes from the C library's allocator, which gives a freed batch
# back (Dask's nanny sets MALLOC_TRIM_THRESHOLD_): Arrow's default, mimalloc, kept each worker
# about 60 MB larger (measured: 125 plans a batch, 387 -> 324 MB at the peak), for no speed.
WORKER_ENV = {"ARROW_DEFAULT_MEMORY_POOL": "system"}

log = logging.getLogger(__name__)
# The local cluster started ahead (``cluster_ahead``), while it is open:
# "future" (of the cluster), "api_url" (its workers' Prefect API), "starter" (the thread
# that starts and closes it), "address" once used.
_ahead: dict[str, Any] = {}


def _int_env(name: str, default: int) -> int:
    value = whole_number(name)
    return default if value is None else value


def workers() -> int:
    return max(1, _int_env(WORKERS_ENV, os.cpu_count() or 1))


def wants_dask(sources: int) -> bool:
    """A scheduler is given, or the corpus is large enough to pay for a local cluster."""
    if os.environ.get(DASK_ADDRESS_ENV, "").strip():
        return True
    return workers() > 1 and sources >= max(2, _int_env(PARALLEL_FROM_ENV, PARALLEL_FROM))


def _local_cluster(api_url: str | None) -> dict[str, Any]:
    """The keyword arguments of the local cluster: its workers report to ``api_url``."""
    # No dashboard; the scheduler's HTTP routes (health, metrics) on a free local port: on its
    # default (8787), a second build's cluster warned on stderr that the port was in use.
    return {"n_workers": workers(), "threads_per_worker": 1, "processes": True, "dashboard_address": None,
            "scheduler_kwargs": {"dashboard_address": "127.0.0.1:0"},
            "preload": WORKER_PRELOAD, "env": {**WORKER_ENV, **({"PREFECT_API_URL": api_url} if api_url else {})}}


def loaded() -> bool:
    """The machine is loaded: at least as many processes running or waiting for a core as there
    are cores (the 1-minute load average)."""
    return os.getloadavg()[0] >= (os.cpu_count() or 1)


@contextlib.contextmanager
def cluster_ahead(sources: int, api_url: str | None, after: threading.Event | None = None) -> Iterator[None]:
    """Start now, in the background, the local cluster a parse of ``sources``
    sources would start, for ``parse_runner`` to use; close it on leaving
    (an error and Ctrl-C included). Nothing when no local cluster is wanted
    (few sources, or a scheduler given). ``after``: started only once that
    event is set (the temporary server answers) or the context is left."""
    if _ahead or os.environ.get(DASK_ADDRESS_ENV, "").strip() or not wants_dask(sources):
        yield
        return
    leaving = threading.Event()
    # the thread that starts the cluster also closes it (``release_ahead``); leaving waits for that
    with ThreadPoolExecutor(1, thread_name_prefix="kehoach-cluster") as starter:
        future = starter.submit(_start, _local_cluster(api_url), after, leaving)
        _ahead.update(future=future, api_url=_url(api_url), starter=starter)
        try:
            yield
        finally:
            leaving.set()
            release_ahead()
            _ahead.clear()


def _start(options: dict[str, Any], after: threading.Event | None, leaving: threading.Event) -> LocalCluster | None:
    """The local cluster, once ``after`` is set (None if the build left before)."""
    while after is not None and not after.wait(0.2):
        if leaving.is_set():
            return None
    if leaving.is_set():  # the server's start failed: the build is ending
        return None
    return LocalCluster(**options)


def release_ahead() -> None:
    """Close the cluster started ahead, if still open: after the parse its
    workers only hold memory. It is closed in the background, while the build
    goes on (closing took a 1,000-plan build 0.7 s)."""
    future = _ahead.pop("future", None)
    if future is not None:
        _ahead["starter"].submit(_close, future)


def _url(api_url: str | None) -> str:
    return (api_url or "").rstrip("/")


def _close(future: Future) -> None:
    """Close the cluster once started (a cluster that failed to start has nothing to close)."""
    try:
        cluster = future.result()
    except Exception:  # its error was the parse's to report, if the parse used it
        log.debug("the local cluster started ahead did not start", exc_info=True)
        return
    if cluster is None:  # the build ended before the cluster was to start
        return
    try:
        cluster.close()
    except Exception as exc:  # in the background, after the parse: said in the log, the build goes on
        log.info("the local Dask cluster did not close cleanly: %s", exc)


def _started_ahead(api_url: str | None) -> LocalCluster | None:
    """The cluster started ahead, if its workers report to ``api_url`` (the
    temporary server may have had to move to another port)."""
    if "future" not in _ahead or _ahead["api_url"] != _url(api_url):
        return None
    cluster = _ahead["future"].result()
    _ahead["address"] = cluster.scheduler_address
    return cluster


def parse_runner(sources: int, api_url: str | None = None) -> TaskRunner:
    """The task runner for ``sources`` parse tasks (see the module's docstring).
    ``api_url``: the Prefect API the local workers report to (the flow's own,
    which may be a temporary server the workers would not otherwise know)."""
    address = os.environ.get(DASK_ADDRESS_ENV, "").strip()
    if address:
        return DaskTaskRunner(address=address)
    if wants_dask(sources):
        ahead = _started_ahead(api_url)
        if ahead is not None:  # by address: Prefect copies the runner, without a cluster object
            return DaskTaskRunner(address=ahead.scheduler_address)
        return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs=_local_cluster(api_url))
    # parsing is CPU-bound Python: threads would not run it any faster
    return ThreadPoolTaskRunner(max_workers=1)


def batches(sources: int) -> list[tuple[int, int]]:
    """Contiguous spans of the sources, four per worker (``KEHOACH_WORKERS``:
    for a real cluster, its number of worker processes), so a slow batch
    does not hold the others back and no task is mostly overhead."""
    count = max(1, min(sources, BATCHES_PER_WORKER * workers()))
    bounds = [round(i * sources / count) for i in range(count + 1)]
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def describe(runner: TaskRunner) -> str:
    if isinstance(runner, DaskTaskRunner):
        if runner.address and runner.address == _ahead.get("address"):
            return f"a local Dask cluster of {workers()} worker processes, started ahead"
        return f"Dask scheduler {runner.address}" if runner.address else \
            f"a local Dask cluster of {runner.cluster_kwargs.get('n_workers')} worker processes"
    return "the flow's process"
