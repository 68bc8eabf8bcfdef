"""The processes a CLI started, read from /proc (Linux): its children, their command lines, and its
temporary Prefect server once that answers."""

from __future__ import annotations

import subprocess
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
