"""The parse fans out, one task per source, on a real Dask cluster; the tables
are those of the sequential build."""

import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from corpus import write_corpus
from distributed import Client, LocalCluster
from helpers import PLAN_FILE
from prefect import get_client

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
    """Three generated plans, built the plain sequential way as the reference."""
    root = tmp_path_factory.mktemp("corpus")
    write_corpus(PLAN_FILE, root / "plans", 3)
    build.run_build([root / "plans"], root / "sequential")
    return root / "plans", tables(root / "sequential")


# The build's modules beyond the parser: a worker that parses never needs them (about 21 MB and 0.4 s).
BUILD_MODULES = ("flows.pipeline", "kehoach.build", "kehoach.package.writer", "kehoach.audit.runner", "duckdb")


def test_corpus_on_a_dask_scheduler_gives_the_sequential_tables(prefect_harness, corpus, tmp_path, monkeypatch):
    plans, expected = corpus
    with get_client(sync_client=True) as client:
        api_url = str(client.api_url)
    # a cluster of its own, as a real one would be: its workers report to this Prefect API
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      env={"PREFECT_API_URL": api_url}) as cluster:
        monkeypatch.setenv(runners.DASK_ADDRESS_ENV, cluster.scheduler_address)
        result = build_package(sources=[str(plans)], out=str(tmp_path / "out"))
        computed = {str(key) for key, _, finish, *_ in cluster.scheduler.transition_log if finish == "memory"}
        with Client(cluster) as client:  # a lambda travels by value: the worker imports no test module for it
            imported = client.run(lambda: [m for m in BUILD_MODULES if m in sys.modules])
    parsed = {key for key in computed if key.startswith("parse_batch")}
    assert len(parsed) == len(runners.batches(3)) == 3  # a batch per source here, run by the cluster's workers
    assert result.counts["plans"] == 3
    assert list(imported.values()) == [[], []]  # the parse's tasks brought no module of the build
    got = tables(tmp_path / "out")
    for name, table in expected.items():
        assert got[name].equals(table), name


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
