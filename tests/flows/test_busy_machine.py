"""A build never fails because the machine is slow (issue 27).

The CLI runs for real, each run with a new ``PREFECT_HOME`` (as on a fresh
machine: its temporary server's first start creates the database), on the
loopback only. The load test starts more CPU-bound processes than there are
cores for the builds; under them, three builds start at once: one plan, and a
corpus of ``CORPUS_PLANS`` plans parsed on the local Dask cluster (its
threshold, ``runners.PARALLEL_FROM``, lowered to that size: the default, 32
plans, proved nothing more, and that build alone took 162 s instead of 98 s on
a loaded machine) on another output, and one plan again on the first output,
serialised with it by the output's lock. The CPU-bound processes run until
every build's temporary server answered (its first start, the migrations of a
new database, is what a busy machine failed: issue 27), then the test stops
them: the rest of the builds ran 60-90 s more under them and slowed the other
tests' worker as much (``make bench``, ``scripts/benchmark.py --load``, keeps
them for whole builds and measures those). The bounds are against hanging,
never performance thresholds.

The contention is on one core (``LOADED_CORES``): the builds, everything they
start (their servers, the Dask workers) and the CPU-bound processes are bound
to it, two of those for the one core, as three were for two cores in the
issue; each server's first start gets at most a third of a core, less than
under the issue's load. Spread over every core, the CPU-bound processes took
that share of the whole machine from the suite's other workers: bound to one
core, they leave the other cores to them, and burn less (this test alone, load
average 12 from other work: 25.3 s of CPU against 32.4 s; the whole test 99 s
against 102 s).

The one-plan builds also show what the CLI's own start leaves in its process
(``tests/flows/test_cli_startup.py``): run as ``cli.main`` by a small program
that then lists the modules of Prefect's server application it imported (none:
the server runs in a process of its own) with the CLI's quiet default (no
logging level set: kehoach's own line and the parser's warnings only).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from corpus import write_corpus
from helpers import PLAN_FILE
from server_processes import answering_server

from flows import cli, runners
from flows.pipeline import REFRESH_RETRIES, refresh_package
from kehoach.core.errors import EXIT_INPUT, KehoachError
from kehoach.core.settings import SERVER_START_SECONDS_ENV, server_start_seconds

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the early server is Linux's")

CORPUS_PLANS = 4  # two batches for each of the cluster's two workers
# The core the load test's processes run on (the last this process may use): the others are left to the rest.
LOADED_CORES = {max(os.sched_getaffinity(0))} if sys.platform.startswith("linux") else set()
HANG_GUARD = 1200  # seconds; a bound against hanging, not a performance threshold
# A CPU-bound process until killed (or, should the test's process die, after HANG_GUARD seconds).
HOG = f"import time\nend = time.monotonic() + {HANG_GUARD}\nwhile time.monotonic() < end: pass"


def _on_loaded_cores() -> None:
    """A ``preexec_fn``: the process, and whatever it starts, runs on ``LOADED_CORES`` only."""
    os.sched_setaffinity(0, LOADED_CORES)


@pytest.fixture
def hogs() -> Iterator[list[subprocess.Popen]]:
    """One more CPU-bound process than ``LOADED_CORES``, bound to them, killed whatever the test's outcome."""
    started = []
    try:
        for _ in range(len(LOADED_CORES) + 1):
            started.append(subprocess.Popen([sys.executable, "-c", HOG], preexec_fn=_on_loaded_cores))
        yield started
    finally:
        _stop(started)


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.kill()
        process.wait()


def _env(home: Path, **extra: str) -> dict[str, str]:
    """The CLI's environment: its own new Prefect home, no API configured (its temporary server)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", runners.DASK_ADDRESS_ENV)}
    return env | {"PREFECT_HOME": str(home)} | extra


def _cli(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flows.cli", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_on_loaded_cores)


# The CLI's build, then the exit status and the modules of Prefect's server application in this process.
_BUILD_THEN_MODULES = ("import sys; from flows import cli; code = cli.main(sys.argv[1:]); "
                       "print(code, sorted(m for m in sys.modules if m.startswith('prefect.server.api')))")


def _quiet_build(*args: str, env: dict[str, str]) -> subprocess.Popen:
    """The CLI's build through ``cli.main`` (its own start: the server launched first), with the CLI's
    own logging default (no level in the environment)."""
    env = {k: v for k, v in env.items() if k != cli.PREFECT_LEVEL}
    return subprocess.Popen([sys.executable, "-c", _BUILD_THEN_MODULES, "build", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_on_loaded_cores)


def _served_or_ended(run: subprocess.Popen) -> None:
    """Until the CLI's temporary server answers, or the CLI has ended (its build done meanwhile)."""
    try:
        server, _ = answering_server(run, HANG_GUARD)
    except AssertionError:
        if run.poll() is None:
            raise
        return
    with contextlib.suppress(ProcessLookupError):  # ended meanwhile, with its build
        assert os.sched_getaffinity(server) == LOADED_CORES  # it started where the load is


def _plans(out: Path) -> int:
    return pq.read_table(out / "data" / "plans.parquet").num_rows


@pytest.mark.load
def test_builds_under_cpu_contention_succeed_with_a_new_prefect_home(hogs, tmp_path):
    corpus = write_corpus(PLAN_FILE, tmp_path / "corpus", CORPUS_PLANS)
    one, many = tmp_path / "one", tmp_path / "many"
    runs = {
        "one": _quiet_build(str(PLAN_FILE), "--out", str(one), env=_env(tmp_path / "home-1")),
        "corpus": _cli("build", str(tmp_path / "corpus"), "--out", str(many),
                       env=_env(tmp_path / "home-2", **{runners.WORKERS_ENV: "2", "PREFECT_LOGGING_LEVEL": "INFO",
                                                        runners.PARALLEL_FROM_ENV: str(CORPUS_PLANS)})),
        "same output": _quiet_build(str(PLAN_FILE), "--out", str(one), env=_env(tmp_path / "home-3")),
    }
    try:
        for run in runs.values():  # each new database made and its server answering, under the load
            _served_or_ended(run)
        assert all(hog.poll() is None for hog in hogs)  # the load lasted until then
        _stop(hogs)
        done = {name: (run.wait(HANG_GUARD), *run.communicate()) for name, run in runs.items()}
    finally:
        for run in runs.values():
            if run.poll() is None:
                run.kill()
                run.communicate()
    for name in ("one", "same output"):  # the build's status, and no module of the server's application
        assert (done[name][0], done[name][1].splitlines()[-1], done[name][2]) == (0, "0 []", ""), name
    # the corpus's: Dask's workers, closed in the background after the parse, may say on stderr that
    # their scheduler went first
    assert done["corpus"][0] == 0, done["corpus"][2]
    # two outputs at once: both built
    corpus_out = done["corpus"][1]
    assert f"parsing {len(corpus)} source(s) on a local Dask cluster of 2 worker processes" in corpus_out
    assert f"{many}: version 1.0.0\n" in corpus_out
    assert _plans(many) == len(corpus)
    # the same output twice at once: one built it, the other waited for the lock and found it done
    shown = {name: done[name][1].splitlines()[:-1] for name in ("one", "same output")}
    said = sorted(lines[-1] for lines in shown.values())
    assert said == [f"{one}: version 1.0.0", f"{one}: version 1.0.0 (unchanged, nothing written)"]
    assert _plans(one) == 1
    # quiet by default: kehoach's own line and the parser's warnings, no Prefect INFO line, no "View at"
    [built] = [lines for lines in shown.values() if lines[-1] == f"{one}: version 1.0.0"]
    assert all("| WARNING |" in line for lines in shown.values() for line in lines[:-1]), shown
    assert any("names no single known document" in line for line in built[:-1]), shown
    assert not any("View at" in text for name in ("one", "same output") for text in done[name][1:])


# In a child process: the CLI's own start, its server launched, then put in the place of that
# server a process that lives and never answers, as a server the machine gives no time to; the
# CLI's build then waits for it. (A stopped server, SIGSTOP, is no such stand-in: in a process group
# of its own, orphaned, the kernel sends it SIGHUP when a process exits, and it ends.)
_SILENT_SERVER = """
import subprocess, sys
from flows import cli, launch
launch.launch()
server = launch._launched["process"]
server.kill()
server.wait()
silent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
launch._launched["process"] = silent
print(silent.pid, flush=True)
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.prefect
def test_a_server_that_does_not_answer_in_time_is_one_line_exit_2(tmp_path):
    home, out = tmp_path / "home", tmp_path / "out"
    done = subprocess.run([sys.executable, "-c", _SILENT_SERVER, "build", str(PLAN_FILE), "--out", str(out)],
                          env=_env(home, **{SERVER_START_SECONDS_ENV: "2"}), capture_output=True, text=True,
                          timeout=HANG_GUARD)
    server = int(done.stdout.split()[0])
    assert done.returncode == EXIT_INPUT
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"{home}: Prefect's temporary server, still starting, did not answer in 2 s")
    assert f"raise {SERVER_START_SECONDS_ENV}" in done.stderr
    assert not out.exists()
    with pytest.raises(ProcessLookupError):  # stopped with the CLI
        os.kill(server, 0)


@pytest.mark.prefect
def test_a_failed_refresh_is_run_again_by_prefect_and_its_log_says_so(prefect_harness, tmp_path, caplog):
    """The served refresh's retries (Prefect's own: the run is scheduled again after the delay, here
    none); a source that is missing fails every attempt, so each but the last says it will be retried."""
    missing = tmp_path / "gone.txt"
    with pytest.raises(KehoachError, match="no such file"):
        refresh_package.with_options(retry_delay_seconds=0)(sources=[str(missing)], out=str(tmp_path / "out"),
                                                            target=str(tmp_path / "portal"))
    said = [r.getMessage() for r in caplog.records if r.name == "prefect.flow_runs" and r.levelname == "WARNING"]
    retried = [line for line in said if "Prefect runs this refresh again" in line]
    assert [line.rsplit("(", 1)[1] for line in retried] == [
        f"attempt {n} of {REFRESH_RETRIES + 1})" for n in range(2, REFRESH_RETRIES + 2)]
    assert retried[0].startswith("this run failed (")
    assert str(missing) in retried[0]


def test_the_server_start_bound_is_a_setting_in_whole_seconds(monkeypatch):
    monkeypatch.delenv(SERVER_START_SECONDS_ENV, raising=False)
    assert server_start_seconds() == 600  # minutes, not Prefect's 20 s
    monkeypatch.setenv(SERVER_START_SECONDS_ENV, "1800")
    assert server_start_seconds() == 1800
    monkeypatch.setenv(SERVER_START_SECONDS_ENV, "0")
    with pytest.raises(KehoachError, match=f"{SERVER_START_SECONDS_ENV} must be a whole number of at least 1"):
        server_start_seconds()
