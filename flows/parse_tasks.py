"""The parse's Prefect tasks and its subflow on a Dask cluster: what a Dask
worker runs, and all it imports as it starts (``flows.runners.WORKER_PRELOAD``):
the text reader and the parser, not the rest of the build (the package
writer, the audit, the publishers, DuckDB), which cost a worker about 21 MB
and 0.4 s of CPU more (measured with pandas already imported, as pyarrow
imports it at its first conversion). The subflow is here, not beside the build's
flows: a task sent to a worker carries its flow run's context, the flow
included, and the worker imports whatever that flow's module imports."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.utilities.annotations import unmapped

from flows import parse_warnings, runners
from kehoach.core.errors import KehoachError
from kehoach.parse import corpus
from kehoach.parse.cache import ParseCache, read_work
from kehoach.parse.plan import PlanRows, read_plan
from kehoach.read.sources import read_source


@task(name="parse source")
def parse_one(path: str, sha256: str) -> PlanRows:
    """One plan text -> its rows (one task per source, mapped; typed with the
    others, ``kehoach.parse.corpus.parsed``). The task
    reads the file itself (a path travels to a Dask worker, not the text) and
    checks it is the text the build fingerprinted."""
    source = read_source(path)
    if source.sha256 != sha256:
        raise KehoachError("the file changed while the package was being built: build again", path)
    return read_plan(source)


@task(name="parse sources")
def parse_batch(paths: list[str], hashes: list[str], keys: list[str], cache: str) -> list[str]:
    """A batch of sources, one after another, on a Dask worker; each source's
    entry written there, in the parse cache's folder ``cache`` (the flow reads
    the entries: no table travels back); the parser's warnings returned, kept
    for the flow to sum up (``flows.parse_warnings``)."""
    with parse_warnings.kept() as warnings:
        plans = (parse_one.fn(path, sha256) for path, sha256 in zip(paths, hashes, strict=True))
        corpus.store(ParseCache(Path(cache)), zip(keys, plans, strict=True))
    return warnings


# A corpus's parser warnings logged one by one up to this many; else summed up by kind (as many kinds).
LOGGED_WARNINGS = 10


@flow(name="parse_sources", log_prints=False)
def parse_corpus(work: str, cache: str) -> None:
    """The sources of the file ``work`` (``ParseCache.write_work``: a flow run's parameters are
    limited to 512 KB) parsed on this subflow's task runner (a Dask cluster,
    ``flows.runners``) in ``runners.batches`` batches, one task each: a task
    run costs about half a second on a Dask worker (measured: 100 trivial
    tasks, 47 s on two workers), more than parsing a plan. Each batch writes
    its sources' entries in the parse cache ``cache`` on its worker; the
    parser's warnings are logged here (``flows.parse_warnings``)."""
    paths, hashes, keys = read_work(work)
    spans = runners.batches(len(paths))
    pending = list(parse_batch.map([paths[a:b] for a, b in spans], [hashes[a:b] for a, b in spans],
                                   [keys[a:b] for a, b in spans], unmapped(cache)))
    warnings = []
    while pending:
        warnings += pending.pop(0).result()
    logger = get_run_logger()
    for line in parse_warnings.summary(warnings, LOGGED_WARNINGS):  # a corpus's, summed up
        logger.warning("%s", line)
