"""A corpus large enough starts a local Dask cluster, whose tables are those of
the sequential build (the parse on a real scheduler's workers:
``tests/flows/test_dask_parse_cache.py``)."""

import contextlib
import os
import socket
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from corpus import write_corpus
from helpers import PLAN_FILE, UNVALIDATED
from prefect_database import seed_home
from server_processes import cli_leaving_nothing

from flows import cli, parse_tasks, runners
from flows.pipeline import build_package
from kehoach import build
from kehoach.core.model import resource_names
from kehoach.package.layout import parse_cache_dir

pytestmark = pytest.mark.prefect


def tables(out: Path) -> dict:
    return {name: pq.read_table(out / "data" / f"{name}.parquet") for name in resource_names()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict]:
    """Three generated plans, built the plain sequential way as the reference (its tables: not validated
    here, as every build of the flow tests is)."""
    root = tmp_path_factory.mktemp("corpus")
    write_corpus(PLAN_FILE, root / "plans", 3)
    build.run_build([root / "plans"], root / "sequential", steps=UNVALIDATED)
    return root / "plans", tables(root / "sequential")


def test_a_large_corpus_starts_a_local_cluster(prefect_harness, corpus, tmp_path, monkeypatch, caplog):
    plans, expected = corpus
    monkeypatch.delenv(runners.DASK_ADDRESS_ENV, raising=False)
    monkeypatch.setenv(runners.PARALLEL_FROM_ENV, "3")
    monkeypatch.setenv(runners.WORKERS_ENV, "2")
    monkeypatch.setattr(parse_tasks, "LOGGED_WARNINGS", 1)  # the workers' warnings summed up by the flow
    assert "local Dask cluster of 2" in runners.describe(runners.parse_runner(3))
    build_package(sources=[str(plans)], out=str(tmp_path / "out"))
    got = tables(tmp_path / "out")
    for name, table in expected.items():
        assert got[name].equals(table), name
    said = [r.getMessage() for r in caplog.records if r.name == "prefect.flow_runs" and r.levelname == "WARNING"]
    first = sorted(plans.glob("*.txt"))[0]
    # each copy of the plan cites 'Đề án 06' twice, which two documents could be
    assert said[0] == "the parse gave 6 warnings, of 1 kind(s):"
    assert said[1].startswith(f"6 × reference 'Đề án 06' names no single known document (first at {first}:")
    assert len(said) == 2


def test_a_text_that_does_not_decode_on_a_worker_is_one_located_line(prefect_harness, corpus, tmp_path,
                                                                     monkeypatch, capsys):
    """Each task decodes the texts it parses: a bad one found on a Dask worker is
    reported as the CLI reports any input error, and no package is written (the
    parse cache keeps the entries of the texts that parsed, for the next build)."""
    plans, _ = corpus
    mixed = tmp_path / "plans"
    mixed.mkdir()
    for path in sorted(plans.glob("*.txt")):
        (mixed / path.name).write_bytes(path.read_bytes())
    bad = mixed / "zz-legacy.txt"
    bad.write_bytes("Kế hoạch\n".encode() + "Bên hơn Hà".encode("cp1258") + b"\n")
    monkeypatch.delenv(runners.DASK_ADDRESS_ENV, raising=False)
    monkeypatch.setenv(runners.PARALLEL_FROM_ENV, "4")
    monkeypatch.setenv(runners.WORKERS_ENV, "2")
    assert runners.wants_dask(4)
    assert cli.main(["build", str(mixed), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{bad}:2: not valid UTF-8 text (byte 0x") and err.count("\n") == 1, err
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert written and all(p.parent == parse_cache_dir(tmp_path / "out") for p in written)
    assert len(written) == len(list(plans.glob("*.txt")))  # the good texts' entries, no half-written one


def test_batches_cover_the_sources_in_order(monkeypatch):
    monkeypatch.setenv(runners.WORKERS_ENV, "2")
    assert runners.batches(1000) == [(i * 125, (i + 1) * 125) for i in range(8)]
    assert runners.batches(3) == [(0, 1), (1, 2), (2, 3)]


def test_one_plan_stays_in_the_flow_process(monkeypatch):
    monkeypatch.delenv(runners.DASK_ADDRESS_ENV, raising=False)
    monkeypatch.delenv(runners.PARALLEL_FROM_ENV, raising=False)
    assert not runners.wants_dask(1)
    assert runners.describe(runners.parse_runner(1)) == "the flow's process"


# Where a Dask scheduler serves HTTP unless told otherwise.
DASK_HTTP_PORT = 8787
HANG_GUARD = 600  # seconds; a bound against hanging, not a performance threshold


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the early server is Linux's (parent-death signal)")
def test_a_corpus_built_by_the_cli_on_a_cluster_started_ahead(corpus, tmp_path):
    """The CLI starts what a build needs before it needs it (issue 12): its temporary server first, then the
    local cluster while the sources are checked; and it leaves no process behind (its own process group)."""
    plans, expected = corpus
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", runners.DASK_ADDRESS_ENV)}
    env.update({runners.PARALLEL_FROM_ENV: "2", runners.WORKERS_ENV: "2", "PREFECT_LOGGING_LEVEL": "INFO"})
    seed_home(Path(env["PREFECT_HOME"]))  # its server's start, not its database's first (the load test's)
    out = tmp_path / "out"

    # Dask's default HTTP port taken, as by another build's cluster: nothing is said about it on stderr
    with socket.socket() as taken:
        with contextlib.suppress(OSError):  # already taken: the same case
            taken.bind(("", DASK_HTTP_PORT))
            taken.listen()
        done = cli_leaving_nothing("build", str(plans), "--out", str(out), env=env, timeout=HANG_GUARD)
    assert (done.returncode, done.stderr) == (0, "")
    assert "parsing 3 source(s) on a local Dask cluster of 2 worker processes, started ahead" in done.stdout
    assert f"{out}: version 1.0.0\n" in done.stdout
    got = tables(out)
    for name, table in expected.items():
        assert got[name].equals(table), name

    # unchanged: nothing decoded, no cluster, nothing written
    again = cli_leaving_nothing("build", str(plans), "--out", str(out), env=env, timeout=HANG_GUARD)
    assert (again.returncode, again.stderr) == (0, "")
    assert "local Dask cluster" not in again.stdout
    assert f"{out}: version 1.0.0 (unchanged, nothing written)" in again.stdout
