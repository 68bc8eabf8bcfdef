"""Prefect's temporary server for one CLI run, ended with the CLI however it ends.

When ``PREFECT_API_URL`` is unset, Prefect starts a temporary API server
(``SubprocessASGIServer``: uvicorn in a child process) the first time a flow
needs one, and stops it at exit. A CLI killed with SIGKILL runs no exit code,
so that server was left running. ``prefect_api()`` starts the same server
itself, before the flow, with a parent-death signal (Linux
``prctl(PR_SET_PDEATHSIG, SIGTERM)``): the kernel sends the server SIGTERM when
the CLI dies, whatever the cause. The run uses it through ``PREFECT_API_URL``;
a normal exit (or SIGTERM, SIGHUP, Ctrl-C) stops it as Prefect does, at exit.
Elsewhere than Linux the server is Prefect's own (stopped at a normal exit only).

A full disk (or a refused write) under Prefect's home or the folder of its
SQLite database does not reach the CLI as an error: the server's migrations
fail with SQLite's "database or disk is full", uvicorn exits with status 3,
Prefect takes that for a port in use and starts it again and again until its
start-up timeout ("Timed out while attempting to connect to ephemeral Prefect
API server"). So the folders are tried with a small write before each start
(and after a failed run): the OSError that write meets is the user's one-line
error, naming the folder, before any server process is left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import prefect
from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings
from sqlalchemy.engine import make_url

from kehoach.core.errors import FILESYSTEM_ERRNOS, KehoachError

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# What a folder of the server must take to count as writable: a few of SQLite's pages. A disk
# with more than this left but less than the migrations need (a few hundred KiB) still ends in
# Prefect's time-out: SQLite's journal is gone again when the restarted server is tried.
_PROBE_BYTES = 64 * 1024


def _parent_death_signal() -> Callable[[], None] | None:
    """A ``preexec_fn`` making the child receive SIGTERM when this process dies (None off Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def arm() -> None:  # runs in the child, between fork and exec (the setting survives exec)
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os.kill(os.getpid(), signal.SIGTERM)

    return arm


class TemporaryServer(SubprocessASGIServer):
    """Prefect's temporary server, started as Prefect starts it, but dying with its parent."""

    def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
        # Called for the first start and for each restart after the server exited with status 3
        # (which is also how it exits when its database cannot be written): a folder that refuses
        # writes ends the start here, with the error a write there meets.
        check_server_folders()
        # The command and environment of SubprocessASGIServer._run_uvicorn_command (Prefect 3.x),
        # plus the parent-death signal.
        server_env = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
        return subprocess.Popen(
            args=[sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent),
                  "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
                  "--port", str(self.port), "--log-level", "error", "--lifespan", "on"],
            env={**os.environ, **server_env, **get_current_settings().to_environment_variables(exclude_unset=True)},
            preexec_fn=_parent_death_signal(),  # the CLI starts it before any thread of its own
        )


@contextlib.contextmanager
def prefect_api() -> Iterator[None]:
    """The Prefect API for the flows run inside: the configured one, else a temporary server of ours."""
    if PREFECT_API_URL.value() or not sys.platform.startswith("linux"):
        yield  # a configured server, or Prefect's own temporary one
        return
    server = TemporaryServer()
    server.start()  # once per process; like Prefect's, it is stopped at exit (atexit), after the
    # flows' log and event workers have drained (atexit runs last what was registered first)
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        try:
            yield
        except (KehoachError, OSError):
            raise  # the user's error already, or one the CLI reports as such
        except Exception:
            check_server_folders()  # the database filled its disk during the run: say so
            raise


def server_folders() -> dict[Path, str]:
    """The folders the temporary server writes -> the setting naming each: Prefect's home and the
    folder of its SQLite database (in the home unless configured elsewhere)."""
    settings = get_current_settings()
    folders = {Path(settings.home).expanduser(): "PREFECT_HOME"}
    url = settings.server.database.connection_url
    address = make_url(url.get_secret_value()) if url else None
    database = address.database if address and address.get_backend_name() == "sqlite" else None
    if database and not database.startswith(("file:", ":memory:")):
        folders.setdefault(Path(database).expanduser().absolute().parent, "PREFECT_SERVER_DATABASE_CONNECTION_URL")
    return folders


def check_server_folders() -> None:
    """A one-line ``KehoachError`` naming the first server folder a small write fails in (a full disk,
    a read-only folder); other errors of that write are raised as they are."""
    for folder, setting in server_folders().items():
        try:
            _probe(folder)
        except OSError as exc:
            if exc.errno not in FILESYSTEM_ERRNOS:
                raise
            raise KehoachError(
                f"{os.strerror(exc.errno).lower()}: Prefect's temporary server cannot write its database in "
                f"this folder ({setting}): {FILESYSTEM_ERRNOS[exc.errno]} there (or set {setting} elsewhere) "
                "and run again (the previous package is unchanged)", folder,
            ) from None


def _probe(folder: Path) -> None:
    """Write and remove ``_PROBE_BYTES`` in ``folder`` (or the nearest folder above it that exists,
    where Prefect would create it); raises the OSError the write meets."""
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    fd, name = tempfile.mkstemp(prefix=".kehoach-probe-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as probe:  # closed (and flushed) inside the try: its error counts too
            probe.write(bytes(_PROBE_BYTES))
    finally:
        os.unlink(name)
