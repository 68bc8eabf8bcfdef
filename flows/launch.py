"""Prefect's temporary server, launched as the CLI starts, before its heavy imports.

A CLI run without ``PREFECT_API_URL`` needs Prefect's temporary API server
(uvicorn in a child process: seconds of one core to come up). Prefect starts
it when a flow first needs the API, after every import; the CLI instead
launches it here, first thing, so that it comes up while the CLI imports
Prefect and the library and reads the sources. This module therefore imports
nothing but the standard library (importing Prefect alone takes seconds).

What is launched is Prefect's own server, as ``SubprocessASGIServer`` runs it
(its command, its port range, its environment: the settings a child reads
from the environment, the profile and the working directory are the
parent's, and no ``temporary_settings`` exist yet at this point), with a
parent-death signal (Linux ``prctl(PR_SET_PDEATHSIG, SIGTERM)``): the kernel
sends the server SIGTERM when the CLI dies, whatever the cause, SIGKILL
included. ``flows.server`` then hands this process to ``TemporaryServer``
(Prefect's start and stop of the server), which waits for it to answer and
stops it at exit; a process never handed over is stopped when the CLI's
command ends.

A server whose database cannot be written exits with status 3 (and Prefect
would start it again and again): the early launch is made only if Prefect's
home takes a small write (``probe``, the test ``flows.server`` makes of the
server's folders, where a refusal is the user's one-line error), and not when
the database is configured elsewhere (left to ``flows.server``).

Prefect's home is settled first (``settle_home``): the default, ``~/.prefect``,
may be out of reach (a service user's missing home, a read-only one), and a
command must not need a folder its user cannot reach.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import errno
import importlib.util
import os
import random
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kehoach.core.errors import KehoachError  # standard library only

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# SubprocessASGIServer's port range and the environment it gives the server (Prefect 3.x).
PORTS = range(8000, 9000)
SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
# What a folder of the server must take to count as writable: a few of SQLite's pages. A disk
# with more than this left but less than the migrations need (a few MiB) passes it (SQLite's
# journal is gone again when the restarted server is tried): flows.server finds SQLite's error
# in what the server printed instead.
PROBE_BYTES = 64 * 1024
DATABASE = "prefect.db"  # Prefect's SQLite database in its home, unless one of these is set:
DATABASE_SETTINGS = ("PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_API_DATABASE_CONNECTION_URL")
# Why a default home is out of reach (a full disk is not: flows.server says that in one line).
UNREACHABLE = {errno.EACCES: "permission denied", errno.EPERM: "permission denied",
               errno.EROFS: "read-only", errno.ENOTDIR: "not a folder", errno.ENOENT: "missing"}
FALLBACK_HOME = "kehoach-prefect-{uid}"  # in the temporary folder, one per user
STOP_TIMEOUT = 5  # seconds for the server to stop on SIGTERM before it is killed, as Prefect waits

_launched: dict[str, Any] = {}  # "port" of the server launched; its "process" until handed over


def supported() -> bool:
    """The parent-death signal is Linux's: elsewhere Prefect starts (and stops) its own server."""
    return sys.platform.startswith("linux")


def parent_death_signal() -> Callable[[], None] | None:
    """A ``preexec_fn`` making the child receive SIGTERM when this process dies (None off Linux).
    Launch from the main thread: the signal follows the thread that forked."""
    if not supported():
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def arm() -> None:  # runs in the child, between fork and exec (the setting survives exec)
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os.kill(os.getpid(), signal.SIGTERM)

    return arm


def server_command(port: int) -> list[str]:
    """The command of ``SubprocessASGIServer._run_uvicorn_command``; Prefect's folder is found
    without importing Prefect."""
    spec = importlib.util.find_spec("prefect")
    app_dir = Path(next(iter(spec.submodule_search_locations))).parent
    return [sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir),
            "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "error", "--lifespan", "on"]


def _port_free(port: int) -> bool:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A free port of Prefect's range; if it is taken meanwhile, the server exits with status 3
    and ``flows.server`` starts it again on another port."""
    for _ in range(20):
        port = random.choice(PORTS)
        if _port_free(port):
            return port
    raise RuntimeError("no free port for Prefect's temporary server")


def probe(folder: Path) -> None:
    """Write and remove ``PROBE_BYTES`` in ``folder`` (or the nearest folder above it that exists,
    where Prefect would create it); raises the OSError the write meets."""
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    fd, name = tempfile.mkstemp(prefix=".kehoach-probe-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as written:  # closed (and flushed) inside the try: its error counts too
            written.write(bytes(PROBE_BYTES))
    finally:
        os.unlink(name)


def _home() -> Path:
    return Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser().absolute()


def settle_home() -> Path | None:
    """Prefect's home when PREFECT_HOME is not set and the default (``~/.prefect``) cannot be made or
    written there: ``<temporary folder>/kehoach-prefect-<uid>``, this user's (made 700; a symlink or
    another user's folder is refused), put in the environment before Prefect reads its settings and
    said once, when made. Prefect would otherwise warn and fail later (the CLI with an internal
    error). Returns the folder chosen (None: Prefect's own)."""
    if os.environ.get("PREFECT_HOME"):
        return None
    try:
        probe(_home())
        return None
    except OSError as exc:
        reason = UNREACHABLE.get(exc.errno)
    if reason is None:  # a full disk, say: flows.server says it
        return None
    folder = Path(tempfile.gettempdir()) / FALLBACK_HOME.format(uid=os.getuid())
    try:
        folder.mkdir(mode=0o700)
        print(f"Prefect's home {_home()} cannot be written ({reason}): Prefect keeps its home in {folder} "
              "(PREFECT_HOME chooses another)", file=sys.stderr)
    except FileExistsError:
        pass
    found = folder.lstat()
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid():
        raise KehoachError("not a folder of this user's (a symlink, a file or another user's), for Prefect's "
                           f"home since {_home()} cannot be written: remove it or set PREFECT_HOME", folder)
    os.environ["PREFECT_HOME"] = str(folder)
    return folder


def _home_takes_the_database() -> bool:
    """Prefect's home (where its SQLite database is, unless configured elsewhere) takes a write."""
    if any(os.environ.get(name) for name in DATABASE_SETTINGS):
        return False
    try:
        probe(_home())
    except OSError:
        return False  # the user's error, said by flows.server before it starts a server
    return True


def popen(port: int, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    """The server process on ``port``, dying with this process, its output (stdout and stderr) to a
    pipe: the process and the pipe's end to read (``flows.server`` drains it in memory)."""
    read, write = os.pipe()
    try:
        process = subprocess.Popen(server_command(port), env=env, stdout=write, stderr=write,
                                   preexec_fn=parent_death_signal())  # before any thread of the CLI
    except BaseException:
        os.close(read)
        raise
    finally:
        os.close(write)  # the server holds it now: the pipe closes when the server ends
    return process, read


def launch() -> None:
    """Launch the temporary server, once per process, unless an API is given in the environment
    (one given in a Prefect profile is found later, by Prefect: the server is then stopped) or
    its database may not be writable."""
    if _launched or not supported() or _api_configured() or not _home_takes_the_database():
        return
    port = free_port()
    existed = (_home() / DATABASE).exists()
    process, output = popen(port, {**os.environ, **SERVER_ENV})
    _launched.update(process=process, output=output, port=port, existed=existed)
    atexit.register(stop)


def _api_configured() -> bool:
    if os.environ.get("PREFECT_API_URL"):
        return True
    # The CLI called by a program that imported Prefect already (tests, the benchmark): ask it.
    settings = sys.modules.get("prefect.settings")
    return bool(settings and settings.PREFECT_API_URL.value())


def port() -> int | None:
    """The port the server was launched on (None if none was)."""
    return _launched.get("port")


def api_url() -> str | None:
    """The API address of the server launched (None if none was)."""
    return f"http://127.0.0.1:{_launched['port']}/api" if "port" in _launched else None


def database_existed() -> bool | None:
    """Whether Prefect's database existed when the server was launched (None if none was)."""
    return _launched.get("existed")


def take(port_: int | None) -> tuple[subprocess.Popen, int] | None:
    """The launched process and the pipe of its output, handed over (once) to whoever will drain
    it, wait for the server and stop it, if it serves ``port_``."""
    if "process" not in _launched or _launched["port"] != port_:
        return None
    return _launched.pop("process"), _launched.pop("output")


def stop() -> None:
    """Stop the launched server if nobody took it (an API was configured after all, or the CLI
    ends before its flow)."""
    process = _launched.pop("process", None)
    if process is None:
        return
    os.close(_launched.pop("output"))
    end(process)


def end(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if the server is still there after ``STOP_TIMEOUT`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
