"""DuckDB connections whose memory is bounded: a step over a national corpus spills to disk.

DuckDB takes up to 80 % of the machine's memory by default; the validation loads a table's CSV
whole (every cell as text) and the shipped database holds every table with its keys, so a corpus
of 20,000 plans would take several GB in each. With ``memory_limit`` it keeps its buffers under
the limit and writes what does not fit into ``temp_directory`` (issue 26). That folder is a hidden
one inside the package the connection works on (``spill_dir``: its staging folder, which a killed
build's clean-up removes whole), made only when DuckDB spills and removed once the connection is
closed: DuckDB would otherwise write into ``.tmp`` of the current directory.

One budget, ``KEHOACH_DUCKDB_MEMORY`` (default ``DEFAULT_BUDGET``): the memory of the build's DuckDB
connections together, whichever threads open them. Each connection asks for a share of it; the
shares of the connections open at once never add up to more than the whole (``_Ledger``): one
that would exceed it waits until others close, so a busy build is slower, never over its budget,
and never fails for it. A connection open alone has all of it; the DuckDB file, written in a
thread beside the validation and the landing page's charts (``kehoach.package.pending``), asks for
half (``SHARED``) while the corpus's tables fit in that half (``fits_beside``), else for all of it,
and the others, asking for half, wait for it (20,000 plans: the DuckDB file with the whole budget
and the charts with half at once took the tree over 3 GB; two connections of 2 GB, 5.2 GB).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb

from kehoach.core.errors import KehoachError

# The setting: the memory DuckDB's connections of a build share, e.g. '2GB'.
MEMORY_ENV = "KEHOACH_DUCKDB_MEMORY"
# The DuckDB file's key indexes are held until their transaction commits (a table's: kehoach.package.database);
# the whole build's process tree is to stay under 3 GB (issue 26).
DEFAULT_BUDGET = "1536MB"
# The share of the budget each of two connections open at once has (the DuckDB file and the validation).
SHARED = 0.5
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def budget() -> int:
    """The budget in bytes (``KEHOACH_DUCKDB_MEMORY``, as DuckDB reads it: '2GB', '1.5GiB', '512MB')."""
    text = os.environ.get(MEMORY_ENV, "").strip() or DEFAULT_BUDGET
    match = _SIZE.match(text)
    if not match:
        raise KehoachError(f"{MEMORY_ENV}={text!r} is not a size such as 2GB or 512MB")
    unit = (match[2] or "").upper()
    scale = 1024 ** "KMGT".index(unit[0]) * 1024 if "I" in unit else _UNITS[unit[:1]]
    return int(float(match[1]) * scale)


def fits_beside(data_bytes: int) -> bool:
    """Whether two connections can work at once on data of ``data_bytes`` (the tables they load):
    it fits in each one's share of the budget."""
    return data_bytes <= budget() * SHARED


def spill_dir(package: Path) -> Path:
    """Where a connection working on ``package`` spills (one a thread: the database is written beside
    the validation)."""
    return package / f".spill-{os.getpid()}-{threading.get_ident()}"


class _Ledger:
    """The shares of the budget the open connections hold (a process's, all threads'): at most the whole."""

    def __init__(self) -> None:
        self.held = 0.0
        self.changed = threading.Condition()

    @contextlib.contextmanager
    def share(self, share: float) -> Iterator[float]:
        """``share`` of the budget (at most all of it) once it is free, held while inside."""
        share = min(max(share, 0.0), 1.0)
        with self.changed:
            # a little slack: halves and thirds add up to the whole in floating point
            self.changed.wait_for(lambda: self.held + share <= 1.0 + 1e-9)
            self.held += share
        try:
            yield share
        finally:
            with self.changed:
                self.held -= share
                self.changed.notify_all()


_ledger = _Ledger()


@contextlib.contextmanager
def bounded(package: Path, share: float = 1.0, **config: object) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory connection under ``share`` of the budget, spilling in ``package``, once that share is free
    (the connections open at once hold at most the whole budget: ``_Ledger``); closed, its spill removed and
    its share given back. A write DuckDB could not make (its spill, a file it writes) is raised as the
    OSError it was (``os_error``)."""
    with _ledger.share(share) as held, _connected(package, held, config) as con:
        yield con


@contextlib.contextmanager
def _connected(package: Path, share: float, config: dict) -> Iterator[duckdb.DuckDBPyConnection]:
    spill = spill_dir(package)
    limits = {"memory_limit": f"{int(budget() * share)}B", "temp_directory": str(spill)}
    con = duckdb.connect(config={**limits, **config})
    try:
        yield con
    except duckdb.Error as exc:
        error = os_error(exc, package)
        if error is None:
            raise
        raise error from exc
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


# A write DuckDB could not make is its own exception, the system's message inside ('Failed to create
# directory "…": No space left on device'); these are turned back into the OSError they were, so a full
# disk is reported as one (one line, exit 2: kehoach.core.errors.filesystem_error), not as an internal error.
_WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM)
_QUOTED_PATH = re.compile(r'"(/[^"]+)"')


def os_error(exc: duckdb.Error, where: Path) -> OSError | None:
    """The OSError a DuckDB error reports, when its message holds the system's text for a disk-full or
    permission error, naming the file its message quotes (else ``where``); None otherwise."""
    for number in _WRITE_ERRNOS:
        if os.strerror(number) in str(exc):
            quoted = _QUOTED_PATH.search(str(exc))
            return OSError(number, os.strerror(number), quoted.group(1) if quoted else str(where))
    return None
