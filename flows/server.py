"""Prefect's temporary server for one CLI run, ended with the CLI however it ends.

When ``PREFECT_API_URL`` is unset, Prefect starts a temporary API server
(``SubprocessASGIServer``: uvicorn in a child process) the first time a flow
needs one, and stops it at exit. A CLI killed with SIGKILL runs no exit code,
so that server was left running; and it started only after the CLI's imports,
while the CLI waited. The CLI launches the same server itself, first thing
(``flows.launch``: with a parent-death signal, Linux
``prctl(PR_SET_PDEATHSIG, SIGTERM)``, the kernel sends the server SIGTERM when
the CLI dies, whatever the cause). ``prefect_api()`` hands that process (and
the pipe of its output) to ``TemporaryServer``, which does what Prefect's
``SubprocessASGIServer`` does: waits until it answers (or starts it again on
another port, as below) and stops it at exit; the run uses it through
``PREFECT_API_URL``. A normal exit (or SIGTERM, SIGHUP, Ctrl-C) stops it then.
It is not Prefect's class because that class lives in the module of the
server's whole application, which the CLI would then import too: about 1.3 s
of CPU (measured), at the start, when the server and a corpus's Dask workers
need the cores.
Elsewhere than Linux the server is Prefect's own (stopped at a normal exit only).

A busy machine: the server's first start creates its database (migrations,
tens of seconds of one core); under CPU contention it took minutes, and
Prefect's start-up timeout (20 s) failed the build with an "internal error".
A server whose process is alive and not answering yet is starting (uvicorn
binds its port only after the application's start-up): the build waits for
it up to ``KEHOACH_SERVER_START_SECONDS`` (default ten minutes; Prefect's own
server, off Linux, is given the same bound), saying so in the log every 30 s.
Past that bound, the user's one line (``TryAgainLater``, exit 2) says what
happened and what to do; a server that ended is not waited for (its last
line of output is the error).

A full disk (or a refused write) under Prefect's home or the folder of its
SQLite database does not reach the CLI as an error: the server's migrations
fail with SQLite's "database or disk is full", uvicorn exits with status 3,
Prefect takes that for a port in use and starts it again and again until its
start-up timeout ("Timed out while attempting to connect to ephemeral Prefect
API server"). So the folders are tried with a small write before each start
(and after a failed run): the OSError that write meets is the user's one-line
error, naming the folder, before any server process is left behind.

A disk nearly full passes that write (SQLite removes its journal when the
migrations fail), so the server's own word is read too: its output (stdout and
stderr, where the CLI's logging settings send its tracebacks) goes to a pipe
drained in memory, never to a file or the CLI's streams. When the server exits
(Prefect restarts it) or its start times out, SQLite's message for a database it
cannot write ends the start with the same one-line error, naming the folder of
the database (a database this start created is removed: the disk is left as it
was). Any other exit keeps Prefect's behaviour.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import logging
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import psutil
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    get_current_settings,
    temporary_settings,
)
from sqlalchemy.engine import make_url

from flows import launch
from kehoach.core.errors import FILESYSTEM_ERRNOS, KehoachError, TryAgainLater
from kehoach.core.settings import SERVER_START_SECONDS_ENV, server_start_seconds

_log = logging.getLogger("prefect")
# Set once the temporary server answers (or its start failed): what should not compete with its
# start for the cores waits for it (``flows.runners.cluster_ahead`` on a loaded machine).
answered = threading.Event()  # the logger of Prefect's own lines on its temporary server

# How often a start that takes long is said in the log (seconds); how long one health request may take.
_STILL_STARTING = 30
_HEALTH_TIMEOUT = 10
# How much of the server's last output is kept (in memory): more than one traceback of SQLite's error.
_TAIL_BYTES = 64 * 1024
# SQLite's messages for a database it cannot write -> the errno they stand for (None: the one a write
# into the database's folder meets now, if any).
_SQLITE_WRITE_ERRORS = {
    "database or disk is full": errno.ENOSPC,  # SQLITE_FULL
    "attempt to write a readonly database": None,  # SQLITE_READONLY
    "unable to open database file": None,  # SQLITE_CANTOPEN
    "disk I/O error": None,  # SQLITE_IOERR
}


class _Tail:
    """The last ``_TAIL_BYTES`` written to a pipe, read until it closes by a daemon thread: kept in
    memory (the disk may be full), and read all along (a pipe never read would block its writer)."""

    def __init__(self, fd: int) -> None:
        self._bytes = b""
        self._reader = threading.Thread(target=self._drain, args=(fd,), name="server-output", daemon=True)
        self._reader.start()

    def _drain(self, fd: int) -> None:
        with os.fdopen(fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(_TAIL_BYTES):
                self._bytes = (self._bytes + chunk)[-_TAIL_BYTES:]  # one assignment: read whole or not at all

    def text(self, wait: float) -> str:
        """What was kept, once the writer closed the pipe (or ``wait`` seconds passed)."""
        self._reader.join(wait)
        return self._bytes.decode("utf-8", errors="replace")


class TemporaryServer:
    """Prefect's temporary server, started and stopped as ``SubprocessASGIServer`` does it (one per
    process, restarted on another port when uvicorn exits with status 3, stopped at exit), but
    dying with its parent, and saying so when its database cannot be written."""

    started: ClassVar[TemporaryServer | None] = None  # the process's server, once started
    _output: _Tail | None = None
    _new_database: Path | None = None  # the SQLite file, if this start is the one creating it

    def __init__(self, port: int | None = None) -> None:
        self.port = port
        self.server_process: subprocess.Popen | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self, timeout: float | None = None) -> None:
        """Start the server (or take the one launched) and wait until it answers: as long as its
        process is alive, up to ``timeout`` seconds (``KEHOACH_SERVER_START_SECONDS``)."""
        database = _sqlite_database()
        created = not database.exists() if database else False
        if launch.port() == self.port and launch.database_existed() is not None:
            created = not launch.database_existed()  # as it was before the server launched early
        self._new_database = database if database and created else None
        self.port = self.port or launch.free_port()
        _log.info("Starting temporary server on http://127.0.0.1:%s", self.port)
        try:
            self.server_process = self._run_uvicorn_command()
            atexit.register(self.stop)  # after the flows' log and event workers, registered later, drain
            self._wait(timeout or server_start_seconds())
        except KehoachError:  # the time-out or an exit: the last server may have said why
            self.check_database_written()
            raise
        finally:
            answered.set()  # or will not: what waited for it goes on (and meets the error, if any)

    def _wait(self, timeout: float) -> None:
        """Until the server answers; started again on another port each time uvicorn exits with
        status 3 (its port was taken: Prefect's own rule). A process alive that does not answer
        yet is starting (uvicorn binds its port only after the application's start-up, the
        migrations of a new database: on a loaded machine, minutes): waited for, up to
        ``timeout``, saying so every ``_STILL_STARTING`` seconds; one that ended otherwise
        is not."""
        started = time.monotonic()
        said = started
        with httpx.Client(timeout=_HEALTH_TIMEOUT) as client:
            while True:
                code = self.server_process.poll()
                if code == 3:
                    self.port = launch.free_port()
                    self.server_process = self._run_uvicorn_command()
                    continue
                if code is not None:
                    raise self._ended(code)
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{self.api_url}/health").status_code == 200 and self._listening():
                        return
                waited = time.monotonic() - started
                if waited >= timeout:
                    raise self._timed_out(timeout)
                if time.monotonic() - said >= _STILL_STARTING:
                    said = time.monotonic()
                    _log.info("The temporary server is still starting (%.0f s of at most %.0f s: %s)",
                              waited, timeout, SERVER_START_SECONDS_ENV)
                time.sleep(0.2)

    def _listening(self) -> bool:
        """Whether what answered on the port is this server: its process listens there. The port is
        chosen free, but the server binds it only after its start-up (minutes on a loaded machine), and
        another CLI's server may have chosen and bound it meanwhile: taken for this one, its health
        answered, and the build went on with the other's API until that CLI ended ("internal error:
        ConnectError", seen under the load test). Not this one: waited for as still starting, until it
        exits with status 3 (the port taken) and is started again on another port."""
        with contextlib.suppress(psutil.Error):
            return any(c.status == psutil.CONN_LISTEN and c.laddr.port == self.port
                       for c in psutil.Process(self.server_process.pid).net_connections(kind="tcp"))
        return False

    def _timed_out(self, timeout: float) -> TryAgainLater:
        folder, setting = _database_folder()
        return TryAgainLater(
            f"Prefect's temporary server, still starting, did not answer in {timeout:.0f} s (the machine is "
            f"overloaded, or {setting} is on a slow disk): run again when the machine is less busy, or raise "
            f"{SERVER_START_SECONDS_ENV} (the previous package is unchanged)", folder)

    def _ended(self, code: int) -> KehoachError:
        """The server ended before answering, not for its port (its database aside, said by
        ``check_database_written``): its last line of output says why."""
        said = self._output.text(wait=2.0).strip().splitlines() if self._output else []
        last = said[-1] if said else "no output"
        return KehoachError(f"Prefect's temporary server ended (exit status {code}) before answering: {last} "
                            "(run with KEHOACH_DEBUG=1 for details; the previous package is unchanged)",
                            _database_folder()[0])

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``launch.STOP_TIMEOUT`` seconds)."""
        process, self.server_process = self.server_process, None
        if TemporaryServer.started is self:
            TemporaryServer.started = None
        if process is None:
            return
        _log.info("Stopping temporary server on http://127.0.0.1:%s", self.port)
        launch.end(process)

    def _run_uvicorn_command(self) -> subprocess.Popen:
        # Called for the first start and for each restart after the server exited with status 3
        # (which is also how it exits when its database cannot be written): what it said, then a
        # folder that refuses writes, end the start here with the user's error.
        if self.server_process is not None:
            self.check_database_written()
        check_server_folders()
        launched = launch.take(self.port)  # the server the CLI launched as it started, if it was
        if launched is not None:
            process, read = launched
            self._output = _Tail(read)
            return process
        # SubprocessASGIServer._run_uvicorn_command (Prefect 3.x), plus the parent-death signal and
        # the output to a pipe of ours.
        settings = get_current_settings().to_environment_variables(exclude_unset=True)
        process, read = launch.popen(self.port, {**os.environ, **launch.SERVER_ENV, **settings})
        self._output = _Tail(read)
        return process

    def check_database_written(self) -> None:
        """The user's one-line error if the server's last output is SQLite failing to write its
        database (the database this start created removed); nothing otherwise."""
        if self._output is None or self.server_process is None:
            return
        ended = self.server_process.poll() is not None
        said = self._output.text(wait=2.0 if ended else 0.0)
        found = [code for message, code in _SQLITE_WRITE_ERRORS.items() if message in said]
        if not found:
            return
        folder, setting = _database_folder()
        refused = _refused_file(_sqlite_database()) if found[0] is None else None
        code = found[0] if found[0] is not None else _write_errno(folder)
        if refused is None and code is None:
            return  # SQLite's error has no cause the file system shows now: Prefect's behaviour
        if ended and self._new_database is not None:
            for name in ("", "-journal", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    self._new_database.with_name(self._new_database.name + name).unlink()
        if refused is not None:  # the database file itself cannot be written (read-only, immutable)
            raise KehoachError(f"{os.strerror(refused).lower()}: Prefect's temporary server cannot write its "
                               f"database ({setting}): {FILESYSTEM_ERRNOS[refused]} (or set {setting} elsewhere) "
                               "and run again (the previous package is unchanged)", _sqlite_database())
        raise _folder_error(folder, setting, code)


@contextlib.contextmanager
def prefect_api() -> Iterator[None]:
    """The Prefect API for the flows run inside: the configured one, else a temporary server of ours."""
    if PREFECT_API_URL.value() or not launch.supported():
        launch.stop()  # an API configured in a profile: the server launched is not needed
        answered.set()  # nothing of ours to wait for
        # a configured server, or Prefect's own temporary one (waited for as long as ours)
        with temporary_settings(updates={PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: server_start_seconds()}):
            yield
        return
    server = TemporaryServer.started
    if server is None:  # once per process, like Prefect's; stopped at exit (atexit)
        server = TemporaryServer(launch.port())  # the server launched as the CLI started, if it was
        server.start()
        TemporaryServer.started = server
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        try:
            yield
        except (KehoachError, OSError):
            raise  # the user's error already, or one the CLI reports as such
        except Exception:
            check_server_folders()  # the database filled its disk during the run: say so
            server.check_database_written()  # (the disk nearly full: SQLite's own word)
            raise


def starting() -> bool:
    """A temporary server of ours is to answer before the CLI's flow runs (``answered`` not yet set)."""
    return not PREFECT_API_URL.value() and launch.supported() and not answered.is_set()


def api_url() -> str | None:
    """The API the CLI's flows will use: the configured one, else the temporary server's (None:
    Prefect's own temporary server, off Linux)."""
    return PREFECT_API_URL.value() or launch.api_url()


def server_folders() -> dict[Path, str]:
    """The folders the temporary server writes -> the setting naming each: Prefect's home and the
    folder of its SQLite database (in the home unless configured elsewhere)."""
    folders = {Path(get_current_settings().home).expanduser(): "PREFECT_HOME"}
    database = _sqlite_database()
    if database:
        folders.setdefault(database.parent, "PREFECT_SERVER_DATABASE_CONNECTION_URL")
    return folders


def _sqlite_database() -> Path | None:
    """The file of the server's SQLite database (None for another database, or one in memory)."""
    url = get_current_settings().server.database.connection_url
    address = make_url(url.get_secret_value()) if url else None
    database = address.database if address and address.get_backend_name() == "sqlite" else None
    if database and not database.startswith(("file:", ":memory:")):
        return Path(database).expanduser().absolute()
    return None


def _database_folder() -> tuple[Path, str]:
    """The folder of the server's database and the setting naming it (Prefect's home by default)."""
    database = _sqlite_database()
    folders = server_folders()
    folder = database.parent if database else next(iter(folders))
    return folder, folders.get(folder, "PREFECT_HOME")


def _refused_file(database: Path | None) -> int | None:
    """The errno opening the existing ``database`` for writing meets (nothing is written), if one
    the user can fix."""
    if database is None or not database.exists():
        return None
    try:
        os.close(os.open(database, os.O_WRONLY))
    except OSError as exc:
        return exc.errno if exc.errno in FILESYSTEM_ERRNOS else None
    return None


def _write_errno(folder: Path) -> int | None:
    """The errno a small write in ``folder`` meets now, if one the user can fix."""
    try:
        launch.probe(folder)
    except OSError as exc:
        return exc.errno if exc.errno in FILESYSTEM_ERRNOS else None
    return None


def _folder_error(folder: Path, setting: str, code: int) -> KehoachError:
    return KehoachError(
        f"{os.strerror(code).lower()}: Prefect's temporary server cannot write its database in "
        f"this folder ({setting}): {FILESYSTEM_ERRNOS[code]} there (or set {setting} elsewhere) "
        "and run again (the previous package is unchanged)", folder,
    )


def check_server_folders() -> None:
    """A one-line ``KehoachError`` naming the first server folder a small write fails in (a full disk,
    a read-only folder); other errors of that write are raised as they are."""
    for folder, setting in server_folders().items():
        try:
            launch.probe(folder)
        except OSError as exc:
            if exc.errno not in FILESYSTEM_ERRNOS:
                raise
            raise _folder_error(folder, setting, exc.errno) from None
