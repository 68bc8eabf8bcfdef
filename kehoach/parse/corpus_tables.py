"""A corpus's tables on disk, read through memory maps: no step holds every table of the corpus.

Why: a plan is about 300 KB of Arrow over its 28 tables, so a national corpus of 20,000 plans
is some 6 GB; held in the flow's heap (and copied by the steps) it did not fit a 24 GB machine.

How (issue 26), one code path for one plan and for 20,000:

- ``write_tables(folder, pieces)`` streams the corpus, a source's tables at a time (the parse
  cache's entries, in the order of the sources), into one uncompressed Arrow IPC file a table
  (``<name>.arrow``). The sources' rows are gathered up to ``BATCH_BYTES``, then each table's
  written as one record batch: only a batch of the corpus is in memory, and a table's chunks are
  few and large (DuckDB scans a thousand one-plan chunks several times slower). The code lists the
  plans share (a primary key without ``plan_id``: documents, agencies) keep the first row of each
  key, as ``concat`` does.
- ``CorpusTables`` is the read-only mapping name -> ``pyarrow.Table`` the steps are given. Each
  lookup memory-maps the table's file: no copy, its pages are the kernel's page cache, read as a
  step touches them and let go when the step drops the table. A step that takes a table while it
  uses it (the CSV and Parquet writers, the validation, a table at a time) holds one table's pages.
- ``tables | {name: table}`` is the same files with the tables a step made (findings, the
  changelog, the linked plans: small) held in memory over them; a plain ``dict`` of tables takes the
  same ``|``, so the steps are written once for both.

The files are the build's working set, not a cache: written again by each build's parse into the
folder beside the parse cache (``folder_beside``) and removed by the build when it ends (a mapped
file stays readable until its last map is dropped).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pyarrow as pa

from kehoach.core.model import Tables, arrow_schema, first_per_key, resource_names, shared_key

TABLE_SUFFIX = ".arrow"
# Bytes of the sources' tables gathered before each table's rows are written as one record batch
# (about a hundred plans): big enough that a table is a few large chunks, small enough to hold.
# The gathered rows are read from their entries without a copy: they hold those entries' bytes
# too, so every table is written at once (a small table's rows waiting alone would hold them all).
BATCH_BYTES = 32 << 20
# A table whose file is smaller stays mapped once looked up: a build looks its tables up hundreds of
# times (a plan's build took a tenth longer mapping each again); 28 such are at most about 100 MB.
KEPT_MAPPED_BYTES = 4 << 20


def folder_beside(cache_folder: Path) -> Path:
    """Where a build's corpus tables are written: beside its parse cache (same disk, same owner)."""
    return cache_folder.with_name(cache_folder.name + "-tables")


class CorpusTables(Mapping[str, pa.Table]):
    """Every resource's table: read from its file in ``folder`` when looked up, or one of ``held``."""

    def __init__(self, folder: Path, held: Mapping[str, pa.Table] | None = None,
                 hidden: frozenset[str] = frozenset()) -> None:
        self.folder = folder
        self.held = dict(held or {})
        self.hidden = hidden  # names left out (``without``)
        self.mapped: dict[str, pa.Table] = {}  # the small tables looked up (``KEPT_MAPPED_BYTES``)

    def path(self, name: str) -> Path:
        return self.folder / f"{name}{TABLE_SUFFIX}"

    def __getitem__(self, name: str) -> pa.Table:
        if name in self.hidden:
            raise KeyError(name)
        if name in self.held:
            return self.held[name]
        if name in self.mapped:
            return self.mapped[name]
        try:
            size = self.path(name).stat().st_size
        except FileNotFoundError:
            raise KeyError(name) from None
        with pa.memory_map(str(self.path(name))) as source:
            table = pa.ipc.open_file(source).read_all()  # buffers of the map: no copy
        if size < KEPT_MAPPED_BYTES:
            self.mapped[name] = table
        return table

    def __contains__(self, name: object) -> bool:
        return name not in self.hidden and (name in self.held or self.path(str(name)).is_file())

    def __iter__(self) -> Iterator[str]:
        on_disk = [n for n in resource_names() if self.path(n).is_file()]
        return iter([n for n in [*on_disk, *(n for n in self.held if n not in on_disk)] if n not in self.hidden])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __or__(self, other: Mapping[str, pa.Table]) -> CorpusTables:
        return CorpusTables(self.folder, {**self.held, **other}, self.hidden - set(other))

    def num_rows(self, name: str) -> int:
        """Rows of a table, from its file's footer (nothing read)."""
        if name in self.held:
            return self.held[name].num_rows
        with pa.memory_map(str(self.path(name))) as source:
            reader = pa.ipc.open_file(source)
            return sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))


def without(tables: Mapping[str, pa.Table], *names: str) -> Mapping[str, pa.Table]:
    """``tables`` but ``names``; a ``CorpusTables`` stays one (its tables looked up when asked for, not
    all mapped at once for as long as the result is held)."""
    if isinstance(tables, CorpusTables):
        return CorpusTables(tables.folder, tables.held, tables.hidden | set(names))
    return {name: table for name, table in tables.items() if name not in names}


class _TableFile:
    """One table's file, its rows written a batch at a time."""

    def __init__(self, name: str, path: Path) -> None:
        self.schema = arrow_schema(name)
        self.shared_key = shared_key(name)
        self.seen: set[tuple] = set()
        self.pending: list[pa.Table] = []
        self.writer = pa.ipc.new_file(str(path), self.schema)

    def add(self, table: pa.Table) -> int:
        """Gather a source's rows; their bytes."""
        if self.shared_key:  # a code list the plans share: the first row of each key
            table = first_per_key(table, self.shared_key, self.seen)
        if table.num_rows:
            self.pending.append(table)
        # its buffers' sizes (a tenth of the CPU of ``nbytes``, which sizes the part of each buffer a
        # slice uses: 34 µs a table, 20 s over 20,000 entries' 28 tables)
        return table.get_total_buffer_size()

    def flush(self) -> None:
        if self.pending:
            batch = pa.concat_tables(self.pending).combine_chunks()
            for part in batch.to_batches():
                self.writer.write_batch(part)
        self.pending = []

    def close(self) -> None:
        self.flush()
        self.writer.close()


def write_tables(folder: Path, pieces: Iterable[Tables]) -> CorpusTables:
    """The corpus of ``pieces`` (each a source's tables, in order) written into ``folder`` (made
    anew), a batch at a time; the tables as ``CorpusTables``."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    tables = CorpusTables(folder)
    files = {name: _TableFile(name, tables.path(name)) for name in resource_names()}
    try:
        gathered = 0
        for piece in pieces:
            gathered += sum(files[name].add(table) for name, table in piece.items())
            if gathered >= BATCH_BYTES:
                for file in files.values():
                    file.flush()
                gathered = 0
    finally:
        for file in files.values():
            file.close()
    # the entries' and batches' memory given back now, not when the allocator's decay would
    pa.default_memory_pool().release_unused()
    return tables
