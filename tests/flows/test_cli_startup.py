"""The CLI starts what a build needs before it needs it (issue 12): Prefect's
temporary server before the heavy imports, a corpus's local Dask cluster
while the sources are checked; and it leaves no process behind.

The CLI runs for real, in its own process group (PREFECT_API_URL unset), so
that every process it started, the server and the Dask workers included, can
be found after it ended: they keep its group even when their parent is gone.

That a build by the CLI imports none of Prefect's server application (the
server runs in its own process) and is quiet by default is checked on the
one-plan builds of the load test (``tests/flows/test_busy_machine.py``): a
CLI with its own temporary server less here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from corpus import write_corpus
from helpers import PLAN_FILE

from flows import cli, runners
from kehoach import build
from kehoach.core.model import resource_names

DASK_HTTP_PORT = 8787  # where a Dask scheduler serves HTTP unless told otherwise

HANG_GUARD = 600  # seconds; a bound against hanging, not a performance threshold
EXIT_GUARD = 60  # seconds for processes ending with the CLI (e.g. multiprocessing's resource tracker) to be gone


def tables(out: Path) -> dict:
    return {name: pq.read_table(out / "data" / f"{name}.parquet") for name in resource_names()}


def _group(pgid: int) -> list[str]:
    """The live processes of a process group, from /proc: 'pid command line'."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()  # after '(name)', which may hold spaces
            if fields[0] != "Z" and int(fields[2]) == pgid:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{entry.name} {command or (entry / 'comm').read_text().strip()}")
        except (FileNotFoundError, ProcessLookupError):  # ended meanwhile
            continue
    return found


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``python -m flows.cli ARGS`` in a new process group; fails the test if a process of the group outlives it."""
    cli = subprocess.Popen([sys.executable, "-m", "flows.cli", *args], env=env, start_new_session=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = cli.communicate(timeout=HANG_GUARD)
        deadline = time.monotonic() + EXIT_GUARD  # those ending on their own, when the CLI's pipes close
        while (left := _group(cli.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
        if _group(cli.pid):
            os.killpg(cli.pid, signal.SIGKILL)  # the processes this test started, not left behind
    assert left == [], f"processes left behind by the CLI: {left}"
    return subprocess.CompletedProcess(cli.args, cli.returncode, stdout, stderr)


def test_importing_the_cli_imports_no_prefect():
    """The CLI launches the server before it imports Prefect and the library (flows.cli)."""
    code = ("import sys, flows.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('prefect', 'prefect_dask', 'distributed', 'pyarrow', 'duckdb') or m.startswith('flows.pipeline')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_prefects_progress_lines_are_shown_with_verbose_only(monkeypatch):
    monkeypatch.delenv(cli.PREFECT_LEVEL)
    cli.set_verbosity(cli.build_parser().parse_args(["build", "--verbose"]))
    assert os.environ[cli.PREFECT_LEVEL] == "INFO"
    monkeypatch.delenv(cli.PREFECT_LEVEL)
    cli.set_verbosity(cli.build_parser().parse_args(["publish"]))
    assert os.environ[cli.PREFECT_LEVEL] == "WARNING"
    monkeypatch.setenv(cli.PREFECT_LEVEL, "DEBUG")  # a level set in the environment is kept
    cli.set_verbosity(cli.build_parser().parse_args(["refresh"]))
    assert os.environ[cli.PREFECT_LEVEL] == "DEBUG"


@pytest.mark.prefect
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the early server is Linux's (parent-death signal)")
def test_a_corpus_built_by_the_cli_on_a_cluster_started_ahead(tmp_path):
    write_corpus(PLAN_FILE, tmp_path / "plans", 3)
    build.run_build([tmp_path / "plans"], tmp_path / "sequential")  # the reference: no Prefect, no Dask
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", runners.DASK_ADDRESS_ENV)}
    env.update({runners.PARALLEL_FROM_ENV: "2", runners.WORKERS_ENV: "2", "PREFECT_LOGGING_LEVEL": "INFO"})
    out = tmp_path / "out"

    # Dask's default HTTP port taken, as by another build's cluster: nothing is said about it on stderr
    with socket.socket() as taken:
        with contextlib.suppress(OSError):  # already taken: the same case
            taken.bind(("", DASK_HTTP_PORT))
            taken.listen()
        done = _cli("build", str(tmp_path / "plans"), "--out", str(out), env=env)
    assert (done.returncode, done.stderr) == (0, "")
    assert "parsing 3 source(s) on a local Dask cluster of 2 worker processes, started ahead" in done.stdout
    assert f"{out}: version 1.0.0\n" in done.stdout
    got, expected = tables(out), tables(tmp_path / "sequential")
    for name, table in expected.items():
        assert got[name].equals(table), name

    # unchanged: nothing decoded, no cluster, nothing written
    again = _cli("build", str(tmp_path / "plans"), "--out", str(out), env=env)
    assert (again.returncode, again.stderr) == (0, "")
    assert "local Dask cluster" not in again.stdout
    assert f"{out}: version 1.0.0 (unchanged, nothing written)" in again.stdout
