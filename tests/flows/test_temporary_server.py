"""A CLI killed with SIGKILL takes Prefect's temporary server with it (issue 11).

The CLI runs for real (no Prefect harness, PREFECT_API_URL unset), so it starts
the temporary server; the test waits until the server answers, kills the CLI
with SIGKILL and waits, with a generous bound only to avoid a hang, for the
server to end.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prefect_database import DATABASE, migrated_database, seed_home
from server_processes import alive, answering_server, cmdline

from kehoach.core.settings import SERVER_START_SECONDS_ENV

pytestmark = [pytest.mark.prefect,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")]

HANG_GUARD = 300  # seconds; a bound against hanging, not a performance threshold


def test_a_killed_cli_leaves_no_temporary_server(plan_path, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    seed_home(Path(env["PREFECT_HOME"]))  # the session's home: its server starts, not its database's first
    with (tmp_path / "cli.log").open("wb") as log:
        cli = subprocess.Popen([sys.executable, "-m", "flows.cli", "build", str(plan_path),
                                "--out", str(tmp_path / "out")], env=env, stdout=log, stderr=log)
    server = None
    try:
        server, port = answering_server(cli, HANG_GUARD)
        cli.send_signal(signal.SIGKILL)
        assert cli.wait(timeout=HANG_GUARD) == -signal.SIGKILL
        deadline = time.monotonic() + HANG_GUARD
        while alive(server) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(server), f"temporary server {server} still running after the CLI was killed"
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
        if server is not None and alive(server) and re.search("uvicorn", " ".join(cmdline(server))):
            os.kill(server, signal.SIGKILL)  # the process this test started, not left behind


# Run in a child process: a server of its own, with no PREFECT_API_URL, stopped at its exit.
# The port is taken by another server that answers Prefect's health request (as another CLI's
# temporary server that chose the same port does): it is not taken for this one.
_TAKEN_PORT = """
import http.server, threading
from flows import launch
from flows.server import TemporaryServer
import httpx
class Answering(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "4"); self.end_headers()
        self.wfile.write(b"true")
    def log_message(self, *args):
        pass
taken = http.server.ThreadingHTTPServer(("127.0.0.1", launch.free_port()), Answering)
threading.Thread(target=taken.serve_forever, daemon=True).start()
assert httpx.get(f"http://127.0.0.1:{taken.server_port}/api/health", timeout=5).status_code == 200
server = TemporaryServer(taken.server_port)
server.start()
print(taken.server_port, server.port, server.server_process.pid,
      httpx.get(server.api_url + "/health", timeout=5).status_code)
"""


def test_the_temporary_server_moves_to_a_free_port_when_its_port_is_taken(tmp_path):
    """uvicorn exits with status 3 when its port is taken: the server starts again on another port,
    answers there, and is stopped when its process exits. What answered on the taken port meanwhile
    (another server) was not taken for it."""
    # uvicorn binds its port after the app's start-up, so the start-up time allowed covers two starts;
    # a home with its database in place: the migrations of a new one are not what is tested here
    migrated_database(tmp_path / DATABASE)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {
        "PREFECT_HOME": str(tmp_path), SERVER_START_SECONDS_ENV: str(HANG_GUARD)}
    done = subprocess.run([sys.executable, "-c", _TAKEN_PORT], env=env, capture_output=True, text=True,
                          timeout=HANG_GUARD)
    assert done.returncode == 0, done.stderr
    taken, port, pid, health = (int(v) for v in done.stdout.split())
    assert port != taken and health == 200
    assert not alive(pid)  # stopped at exit
