"""Files of a staged package still being written while the package is validated.

The DuckDB file takes longer to write than the CSV and Parquet files, and
DuckDB works without holding the GIL: ``kehoach.build.stage`` starts it in a
thread (``start``) and returns, the package is validated meanwhile, and its
resources join the descriptor when the package is swapped in (``finish``).
A staging directory is never removed while a thread still writes in it
(``settle``, called by ``kehoach.build.discard``).

The thread's DuckDB connection, the landing page's and the validation's share the build's DuckDB
budget (``kehoach.core.duckdb_memory``, whose ledger keeps the connections open at once within it):
half each while the tables fit in half of it; a larger corpus's DuckDB file has the whole budget,
and the others wait for it (the validation here, ``make_room``; the charts in the ledger).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from kehoach.core.duckdb_memory import SHARED, fits_beside
from kehoach.core.model import Tables
from kehoach.package.constraints import RowScope
from kehoach.package.writer import write_descriptor


@dataclass(frozen=True)
class InPlace:
    """The package a refresh replaces (``out``) and its rows that may differ from the new tables'
    (``scope``, ``kehoach.versions.incremental``): a hook may start from its files."""

    out: Path
    scope: RowScope


# (tables, staging directory, descriptor extras it adds to, its share of the DuckDB budget, the package
# in place when the refresh's scope is known) -> the file resources it wrote
Hook = Callable[[Tables, Path, dict, float, InPlace | None], list[dict] | None]


@dataclass
class _Writing:
    futures: list[Future] = field(default_factory=list)
    at: int | None = None  # where their resources go in the descriptor's list (None: at its end)
    extra: dict = field(default_factory=dict)
    alone: bool = False  # the validation waits for it (``make_room``)


_writing: dict[Path, _Writing] = {}
# Work begun with the stage whose result a stage hook takes (``begin``, ``take``), by folder and name.
_begun: dict[tuple[Path, str], Future] = {}
_lock = threading.Lock()


def start(directory: Path, hooks: list[Hook], tables: Tables, in_place: InPlace | None = None) -> None:
    """Run ``hooks`` on the tables in a thread, writing into ``directory``: beside the validation with
    a share of the DuckDB budget while the tables fit in it, else with the whole budget, the validation
    waiting for them (``make_room``). ``in_place``: the package a refresh of known scope replaces."""
    if not hooks:
        return
    work = _Writing(alone=not fits_beside(sum(table.get_total_buffer_size() for table in tables.values())))
    share = 1.0 if work.alone else SHARED
    pool = ThreadPoolExecutor(max_workers=len(hooks), thread_name_prefix="kehoach-stage")
    work.futures = [pool.submit(hook, tables, directory, work.extra, share, in_place) for hook in hooks]
    pool.shutdown(wait=False)  # the thread ends with its work; nothing else is queued
    with _lock:
        _writing[directory.resolve()] = work


def begin(directory: Path, name: str, work: Callable[[], object]) -> None:
    """Run ``work`` in a thread of its own while the stage writes the other files of ``directory`` (the
    landing page's charts: DuckDB does not hold the GIL, a 1,000-plan refresh's stage is 0.3-0.5 s
    shorter); a stage hook takes its result (``take``); ``finish`` and ``settle`` wait for it."""
    pool = ThreadPoolExecutor(1, thread_name_prefix=f"kehoach-{name}")
    future = pool.submit(work)
    pool.shutdown(wait=False)  # the thread ends with its work
    with _lock:
        _begun[(directory.resolve(), name)] = future


def take(directory: Path, name: str, work: Callable[[], object]) -> object:
    """The result of the ``work`` begun under ``name`` for ``directory`` (its error raised here), else of
    ``work`` run now."""
    with _lock:
        future = _begun.pop((directory.resolve(), name), None)
    return future.result() if future is not None else work()


def _wait_begun(directory: Path) -> None:
    """Wait, ignoring their errors, for the work begun for ``directory`` no hook took."""
    with _lock:
        futures = [_begun.pop(key) for key in list(_begun) if key[0] == directory.resolve()]
    for future in futures:
        future.exception()


def list_after(directory: Path, count: int) -> None:
    """The resources of the files being written go after the descriptor's first ``count``."""
    with _lock:
        work = _writing.get(directory.resolve())
    if work:
        work.at = count


def make_room(directory: Path) -> float:
    """Before the validation of ``directory``: its share of the DuckDB budget, once the files written
    there with the whole budget are done (their errors are raised by ``finish``)."""
    with _lock:
        work = _writing.get(directory.resolve())
    if work is None:
        return 1.0
    if work.alone:
        for future in work.futures:
            future.exception()  # waited for
        return 1.0
    return SHARED


def finish(directory: Path, desc: dict) -> dict:
    """Wait for the files still being written in ``directory``; the descriptor with
    their resources and extras, written (``desc`` itself when nothing was pending).
    A hook's error (a full disk) is raised here."""
    _wait_begun(directory)  # no thread outlives the stage
    with _lock:
        work = _writing.pop(directory.resolve(), None)
    if work is None:
        return desc
    resources = [r for future in work.futures for r in future.result() or []]
    listed = list(desc["resources"])
    at = len(listed) if work.at is None else work.at
    listed[at:at] = resources
    finished = {**{k: v for k, v in desc.items() if k != "resources"}, **work.extra, "resources": listed}
    write_descriptor(directory, finished)
    return finished


def settle(directory: Path) -> None:
    """Wait, ignoring their errors, for the threads writing in ``directory`` (it is about to go)."""
    _wait_begun(directory)
    with _lock:
        work = _writing.pop(directory.resolve(), None)
    for future in work.futures if work else ():
        future.exception()
