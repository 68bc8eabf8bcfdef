"""The processes a CLI started, read from /proc (Linux): its children, their command lines, its
temporary Prefect server once that answers, and those left behind in its process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx


def stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process from /proc, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2:].split()  # after '(name)', which may hold spaces
    return fields[0], int(fields[1])


def group(pgid: int) -> list[str]:
    """The live processes of a process group, from /proc: 'pid command line'."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
            fields = text[text.rindex(")") + 2:].split()  # after '(name)', which may hold spaces
            if fields[0] != "Z" and int(fields[2]) == pgid:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{entry.name} {command or (entry / 'comm').read_text().strip()}")
        except (FileNotFoundError, ProcessLookupError):  # ended meanwhile
            continue
    return found


def cli_leaving_nothing(*args: str, env: dict[str, str], timeout: float,
                        exit_guard: float = 60) -> subprocess.CompletedProcess:
    """``python -m flows.cli ARGS`` in a new process group, so that every process it started, the server
    and the Dask workers included, can be found after it ended (they keep its group even when their parent
    is gone); fails the test if a process of the group outlives it by ``exit_guard`` seconds (those ending
    on their own when the CLI's pipes close, e.g. multiprocessing's resource tracker). The bounds are
    against hanging, not performance thresholds."""
    cli = subprocess.Popen([sys.executable, "-m", "flows.cli", *args], env=env, start_new_session=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = cli.communicate(timeout=timeout)
        deadline = time.monotonic() + exit_guard
        while (left := group(cli.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
        if group(cli.pid):
            os.killpg(cli.pid, signal.SIGKILL)  # the processes this test started, not left behind
    assert left == [], f"processes left behind by the CLI: {left}"
    return subprocess.CompletedProcess(cli.args, cli.returncode, stdout, stderr)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (found_stat := stat(int(entry.name))) and found_stat[1] == pid:
            found.append(int(entry.name))
    return found


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def alive(pid: int) -> bool:
    found = stat(pid)
    return found is not None and found[0] != "Z"  # a zombie has ended (it waits to be reaped)


def answering_server(cli: subprocess.Popen, timeout: float) -> tuple[int, int]:
    """The temporary server the CLI started, once it answers: (pid, port)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and cli.poll() is None:
        for pid in children(cli.pid):
            args = cmdline(pid)
            if "uvicorn" in args and "--port" in args:
                port = int(args[args.index("--port") + 1])
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5).status_code == 200:
                        return pid, port
                except httpx.HTTPError:
                    pass
        time.sleep(0.2)
    raise AssertionError(f"no temporary server answered (CLI exit status {cli.poll()})")
