"""Prefect's SQLite database, migrated once a test run and copied where a test needs a server but not its
first start.

A temporary server's first start in a new home migrates a new database: about 11 s of one core for the
server against 4.7 s when the database is there (measured, 2026-12-07). Each xdist worker paid it twice
(the session's harness, and the first CLI it started in the session's Prefect home) and the real
``prefect server`` of the refresh tests once more. The first process that needs the database migrates it
(``prefect server database upgrade``, under a file lock in the test run's folder); the others copy it
(SQLite's backup: a consistent copy, whatever the journal mode). The tests of a first start (the load test,
issue 27) still start on a new home.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

DATABASE = "prefect.db"  # Prefect's SQLite database in its home
_TEMPLATE = Path(os.environ["KEHOACH_TEST_RUN_DIR"]) / "prefect-database"
_PREFECT = str(Path(sys.executable).with_name("prefect"))


def sqlite_url(database: Path) -> str:
    return f"sqlite+aiosqlite:///{database}"


def _migrated() -> Path:
    """The test run's migrated database (made by the first caller, the others waiting for it)."""
    _TEMPLATE.mkdir(exist_ok=True)
    database = _TEMPLATE / DATABASE
    with (_TEMPLATE / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not database.exists():
            making = _TEMPLATE / "making" / DATABASE
            making.parent.mkdir(exist_ok=True)
            env = {**os.environ, "PREFECT_HOME": str(making.parent),
                   "PREFECT_SERVER_DATABASE_CONNECTION_URL": sqlite_url(making)}
            done = subprocess.run([_PREFECT, "--no-prompt", "server", "database", "upgrade", "-y"], env=env,
                                  capture_output=True, text=True, check=False)
            assert done.returncode == 0, done.stdout + done.stderr
            _copy(making, database)
    return database


def _copy(source: Path, target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    with contextlib.closing(sqlite3.connect(source)) as original, contextlib.closing(sqlite3.connect(partial)) as copy:
        original.backup(copy)
    partial.replace(target)  # whole or not at all


def migrated_database(target: Path) -> Path:
    """``target``: a copy of the test run's migrated database."""
    _copy(_migrated(), target)
    return target


def seed_home(home: Path) -> None:
    """A Prefect home whose database is missing gets the migrated one (one in place is left as it is)."""
    if not (home / DATABASE).exists():
        migrated_database(home / DATABASE)
