"""The parse's Prefect tasks: what a Dask worker runs, and all it imports as it
starts (``flows.runners.WORKER_PRELOAD``): the text reader and the parser, not
the rest of the build (the package writer, the audit, the publishers), which
would cost each worker about 80 MB and 0.4 s of CPU more."""

from __future__ import annotations

from prefect import task

from flows import parse_warnings
from kehoach.core.errors import KehoachError
from kehoach.core.model import Tables
from kehoach.parse import corpus
from kehoach.parse.plan import parse_source
from kehoach.read.sources import read_source


@task(name="parse source")
def parse_one(path: str, sha256: str) -> Tables:
    """One plan text -> its tables (one task per source, mapped). The task
    reads the file itself (a path travels to a Dask worker, not the text) and
    checks it is the text the build fingerprinted."""
    source = read_source(path)
    if source.sha256 != sha256:
        raise KehoachError("the file changed while the package was being built: build again", path)
    return parse_source(source)


@task(name="parse sources")
def parse_batch(paths: list[str], hashes: list[str]) -> tuple[corpus.Parsed, list[str]]:
    """A batch of sources, one after another, on a Dask worker; their tables
    concatenated there; and the parser's warnings, kept for the flow to sum up
    (``flows.parse_warnings``)."""
    with parse_warnings.kept() as warnings:
        parts = [parse_one.fn(path, sha256) for path, sha256 in zip(paths, hashes, strict=True)]
    return corpus.parsed(paths, parts), warnings
