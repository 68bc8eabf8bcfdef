"""Plan packages made in parallel processes are the packages made one after another."""

import shutil

import pytest
from corpus import write_corpus
from helpers import PLAN_FILE

from kehoach import build
from kehoach.core.errors import KehoachError
from kehoach.datasets import POOL_FROM, WORKERS_ENV, plan_workers, update_plan_datasets
from kehoach.package.layout import read_descriptor

# The corpus build leaves validation out (not the subject; each plan package is validated as it is made).
UNVALIDATED = build.Steps(validate=lambda *args: None)


def test_parallel_plan_packages_equal_sequential_ones(tmp_path):
    write_corpus(PLAN_FILE, tmp_path / "raw", 3)
    build.run_build([tmp_path / "raw"], tmp_path / "a", steps=UNVALIDATED)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    parallel = update_plan_datasets(tmp_path / "a", workers=2)
    sequential = update_plan_datasets(tmp_path / "b", workers=1)
    assert [(p.plan_id, p.version, p.changed) for p in parallel] == [
        (p.plan_id, p.version, p.changed) for p in sequential]
    assert len(parallel) == 3 and all(p.changed and p.version == "1.0.0" for p in parallel)
    for a, b in zip(parallel, sequential, strict=True):
        resources = [r for r in read_descriptor(a.directory)["resources"] if r.get("format") == "csv"]
        assert resources and [r["hash"] for r in resources] == [
            r["hash"] for r in read_descriptor(b.directory)["resources"] if r.get("format") == "csv"]
    assert not any(p.changed for p in update_plan_datasets(tmp_path / "a", workers=2))  # nothing to make


def test_how_many_workers(monkeypatch):
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    assert plan_workers(POOL_FROM - 1) == 1 and plan_workers(0) == 1
    assert plan_workers(3, workers=2) == 2 and plan_workers(1, workers=4) == 1
    monkeypatch.setenv(WORKERS_ENV, "3")
    assert plan_workers(2) == 2 and plan_workers(10) == 3
    monkeypatch.setenv(WORKERS_ENV, "many")
    with pytest.raises(KehoachError, match="KEHOACH_PLAN_WORKERS"):
        plan_workers(10)
    monkeypatch.setenv(WORKERS_ENV, "-1")
    with pytest.raises(KehoachError, match="KEHOACH_PLAN_WORKERS must be a whole number of at least 0"):
        plan_workers(10)
