"""On a real Dask cluster (a ``dask scheduler`` and two ``dask worker``
processes on loopback, started and stopped here): the parse fans out, a task a
batch of sources, run by the cluster's workers, which import none of the
build's modules beyond the parser; the workers write the parse cache's entries
in the shared folder (``KEHOACH_PARSE_CACHE``); a refresh after one plan
changed parses that plan alone and gives the tables a full build gives.
A document (a Word file) is read on a worker only: the flow ships the text it
was read as from its entry, never reading it again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from corpus import amend, write_corpus
from distributed import Client
from helpers import PLAN_FILE, UNVALIDATED, stop_process_group
from prefect import get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterName
from renderers import plan_structure, to_docx

from flows import runners
from flows.pipeline import build_package
from kehoach import build
from kehoach.core.model import resource_names
from kehoach.package.layout import rendering_path
from kehoach.parse.cache import folder_for
from kehoach.read import formats
from kehoach.read.sources import read_source

pytestmark = pytest.mark.prefect
DASK = str(Path(sys.executable).with_name("dask"))
# The build's modules beyond the parser: a worker that parses never needs them (about 21 MB and 0.4 s).
BUILD_MODULES = ("flows.pipeline", "kehoach.build", "kehoach.package.writer", "kehoach.audit.runner", "duckdb")
STARTUP = 120  # seconds a loaded machine may take to start the scheduler and a worker


def _start(args: list[str], log: Path, env: dict) -> subprocess.Popen:
    with log.open("wb") as handle:  # a file, not a pipe: a chatty process never blocks
        return subprocess.Popen([DASK, *args], stdout=handle, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)


def _wait(check, what: str) -> None:
    deadline = time.monotonic() + STARTUP
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {STARTUP} s waiting for {what}")
        time.sleep(0.5)


@pytest.fixture()
def cluster(prefect_harness, tmp_path):
    """The scheduler's address, with two single-thread workers connected, reporting to this Prefect API."""
    with get_client(sync_client=True) as client:
        env = {**os.environ, "PREFECT_API_URL": str(client.api_url)}
    file = tmp_path / "scheduler.json"
    processes = [_start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                         "--scheduler-file", str(file)], tmp_path / "scheduler.log", env)]
    try:
        _wait(file.exists, "the scheduler")
        processes += [_start(["worker", "--scheduler-file", str(file), "--host", "127.0.0.1", "--nthreads", "1",
                              "--no-dashboard", "--preload", "flows.parse_tasks"],
                             tmp_path / f"worker-{i}.log", env) for i in range(2)]
        address = json.loads(file.read_text())["address"]

        def connected() -> bool:
            with Client(address, timeout=30) as client:
                return len(client.scheduler_info()["workers"]) == 2
        _wait(connected, "two workers")
        yield address
    finally:
        for process in reversed(processes):
            stop_process_group(process)


def _tables(out: Path) -> dict:
    return {name: pq.read_table(out / "data" / f"{name}.parquet") for name in resource_names()}


def _counting_reads(monkeypatch, name: str) -> list[str]:
    """The documents of format ``name`` this process reads (the format's real reader, counted)."""
    reads: list[str] = []
    index, found = next((i, f) for i, f in enumerate(formats.FORMATS) if f.name == name)

    def read(data: bytes, path: str):
        reads.append(Path(path).name)
        return found.read(data, path)
    counted = formats.Format(name, found.recognises, read)
    monkeypatch.setattr(formats, "FORMATS", [*formats.FORMATS[:index], counted, *formats.FORMATS[index + 1:]])
    return reads


def test_a_cluster_writes_the_entries_and_refreshes_one_changed_plan(cluster, tmp_path, monkeypatch):
    plans, out, shared = tmp_path / "plans", tmp_path / "out", tmp_path / "shared-cache"
    paths = write_corpus(PLAN_FILE, plans, 4)
    document = paths.pop().with_suffix(".docx")  # the last plan issued as a Word document
    document.write_bytes(to_docx(plan_structure(read_source(document.with_suffix(".txt")).lines, str(document))))
    document.with_suffix(".txt").unlink()
    monkeypatch.setenv(runners.DASK_ADDRESS_ENV, cluster)
    monkeypatch.setenv(runners.WORKERS_ENV, "2")
    monkeypatch.setenv(build.PARSE_CACHE_ENV, str(shared))
    reads = _counting_reads(monkeypatch, "docx")
    result = build_package(sources=[str(plans)], out=str(out))
    assert (result.version, result.counts["plans"]) == ("1.0.0", 4)
    with Client(cluster, timeout=30) as client:  # a lambda travels by value: the worker imports no test module for it
        computed = client.run_on_scheduler(lambda dask_scheduler: [
            str(key) for key, _, finish, *_ in dask_scheduler.transition_log if finish == "memory"])
        imported = client.run(lambda: [m for m in BUILD_MODULES if m in sys.modules])
    parsed = {key for key in computed if key.startswith("parse_batch")}
    assert len(parsed) == len(runners.batches(4)) == 4  # a batch per source here, run by the cluster's workers
    assert list(imported.values()) == [[], []]  # the parse's tasks brought no module of the build
    assert reads == []  # read on a worker, once: the flow shipped the text the worker read it as
    with get_client(sync_client=True) as client:  # the parse's subflow names a file, not every source
        runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["parse_sources"])))
    assert runs and all(sorted(r.parameters) == ["cache", "work"] for r in runs)
    assert not any(p.name in json.dumps(r.parameters) for r in runs for p in plans.iterdir())
    shipped = (out / rendering_path(document.name)).read_text(encoding="utf-8")
    folder = folder_for(shared, out)
    first = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert len(first) == 4 and not (out / ".kehoach" / "parse-cache").exists()  # in the shared folder only

    amend(paths[1])
    assert build_package(sources=[str(plans)], out=str(out)).version == "1.1.0"
    second = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    kept = set(first) & set(second)
    assert len(second) == 4 and len(kept) == 3  # the amended plan's entry replaced, the others'
    assert all(first[name] == second[name] for name in kept)  # untouched: those plans were not parsed
    assert reads == [] and (out / rendering_path(document.name)).read_text(encoding="utf-8") == shipped

    monkeypatch.delenv(runners.DASK_ADDRESS_ENV)
    monkeypatch.delenv(build.PARSE_CACHE_ENV)
    build.run_build([plans], tmp_path / "full", steps=UNVALIDATED)  # the same texts, parsed in this process
    assert reads == [document.name]  # read here, once
    assert (tmp_path / "full" / rendering_path(document.name)).read_text(encoding="utf-8") == shipped
    got, expected = _tables(out), _tables(tmp_path / "full")
    for name in resource_names():
        if name != "changes":  # a first version's changelog is empty
            assert got[name].equals(expected[name]), name
