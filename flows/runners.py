"""Where the parse tasks run: in the flow's process, or on a Dask cluster.

- ``KEHOACH_DASK_ADDRESS=tcp://host:8786``: on that Dask scheduler (a real
  cluster; its workers need this checkout installed and the sources at the
  same paths, e.g. a shared filesystem: a task reads its texts and checks
  their sha256; ``KEHOACH_WORKERS``: its number of worker processes, to size
  the batches);
- otherwise, for a corpus of at least ``KEHOACH_PARALLEL_FROM`` sources
  (default 32) and more than one worker (``KEHOACH_WORKERS``, default the
  number of CPUs): a ``distributed.LocalCluster`` of that many worker
  processes, started for the parse and closed after it;
- otherwise in the flow's own process: starting a cluster costs seconds,
  more than parsing a few plans, and one plan must stay as fast as a
  trivial flow.
"""

from __future__ import annotations

import itertools
import os

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect_dask import DaskTaskRunner

from kehoach.core.settings import whole_number

DASK_ADDRESS_ENV = "KEHOACH_DASK_ADDRESS"
WORKERS_ENV = "KEHOACH_WORKERS"
PARALLEL_FROM_ENV = "KEHOACH_PARALLEL_FROM"
PARALLEL_FROM = 32
BATCHES_PER_WORKER = 4


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


def parse_runner(sources: int, api_url: str | None = None) -> TaskRunner:
    """The task runner for ``sources`` parse tasks (see the module's docstring).
    ``api_url``: the Prefect API the local workers report to (the flow's own,
    which may be a temporary server the workers would not otherwise know)."""
    address = os.environ.get(DASK_ADDRESS_ENV, "").strip()
    if address:
        return DaskTaskRunner(address=address)
    if wants_dask(sources):
        return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs={
            "n_workers": workers(), "threads_per_worker": 1, "processes": True, "dashboard_address": None,
            "env": {"PREFECT_API_URL": api_url} if api_url else {}})
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
        return f"Dask scheduler {runner.address}" if runner.address else \
            f"a local Dask cluster of {runner.cluster_kwargs.get('n_workers')} worker processes"
    return "the flow's process"
