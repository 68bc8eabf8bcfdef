"""DuckDB connections whose memory is bounded: a step over a national corpus spills to disk.

DuckDB takes up to 80 % of the machine's memory by default; the validation loads a table's CSV
whole (every cell as text) and the shipped database holds every table with its keys, so a corpus
of 20,000 plans would take several GB in each. With ``memory_limit`` it keeps its buffers under
the limit and writes what does not fit into ``temp_directory`` (issue 26). That folder is a hidden
one inside the package the connection works on (``spill_dir``: its staging folder, which a killed
build's clean-up removes whole), made only when DuckDB spills and removed once the connection is
closed: DuckDB would otherwise write into ``.tmp`` of the current directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb

# The setting: DuckDB's memory a connection, e.g. '2GB' (defaults below, by what the connection holds).
MEMORY_ENV = "KEHOACH_DUCKDB_MEMORY"
DEFAULT_MEMORY = "512MB"
# A database with primary and foreign keys: DuckDB cannot spill a table's key index while it commits
# it (20,000 plans: task_agencies' keys failed to commit within 512 MB).
INDEXED_MEMORY = "2GB"


def spill_dir(package: Path) -> Path:
    """Where a connection working on ``package`` spills (one a thread: the database is written beside
    the validation)."""
    return package / f".spill-{os.getpid()}-{threading.get_ident()}"


@contextlib.contextmanager
def bounded(package: Path, memory: str = DEFAULT_MEMORY, **config: object) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory connection under ``memory`` (or ``KEHOACH_DUCKDB_MEMORY``), spilling in ``package``;
    closed, its spill removed."""
    spill = spill_dir(package)
    limits = {"memory_limit": os.environ.get(MEMORY_ENV, "").strip() or memory, "temp_directory": str(spill)}
    con = duckdb.connect(config={**limits, **config})
    try:
        yield con
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
