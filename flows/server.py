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
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import prefect
from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


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
        yield
