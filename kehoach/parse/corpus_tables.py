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
  step touches them and let go when the step drops the table. A step that reads a large table
  through (the CSV and Parquet writers, the DuckDB file's load, the validation's compare) asks for
  its record batches instead (``batches``): about ``BATCH_BYTES`` of them are mapped at once and let go
  when dropped, so the step holds that many pages, not the table's; a query DuckDB may scan several times (the landing
  page's charts) is given a stream read anew at each scan (``scanned``, ``Rescanned``).
- ``tables | {name: table}`` is the same files with the tables a step made (findings, the
  changelog, the linked plans: small) held in memory over them; a plain ``dict`` of tables takes the
  same ``|``, so the steps are written once for both.

The files are kept beside the parse cache (``folder_beside``; they move with it into each new
version's state folder) for the next build: a source's rows are written with its entry's key, and
where they are is recorded (``INDEX_FILE``: each key's first row and rows in each table, its plans;
a code list the plans share also keeps every source's rows before the first of each key is kept,
``<name>.all.arrow``). A refresh takes an unchanged source's rows from there (``kept``: runs of
rows of the last files, no entry read), and the changed sources' from their entries; the files are
written anew into a folder renamed over the old one, so a build killed half-way leaves the old
ones, whole. (The key holds the parser's fingerprint, this code's too: rows written by other code
are never taken.)
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa

from kehoach.core.model import Tables, arrow_schema, first_per_key, resource_names, shared_key

TABLE_SUFFIX = ".arrow"
# A shared code list's rows of every source, in their order (the first row of each key is kept in
# ``<name>.arrow``): what a refresh takes a source's rows of that table from.
ALL_SUFFIX = ".all.arrow"
# Each source's key, plans and rows in each table (``Piece``), for the next build.
INDEX_FILE = "sources.json"
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
        size = self._size(name)
        with pa.memory_map(str(self.path(name))) as source:
            table = pa.ipc.open_file(source).read_all()  # buffers of the map: no copy
        if size < KEPT_MAPPED_BYTES:
            self.mapped[name] = table
        return table

    def _small(self, name: str) -> bool:
        """Whether the table is held, or small enough to stay mapped: read from its one map (or KeyError)."""
        return name in self.hidden or name in self.held or name in self.mapped or self._size(name) < KEPT_MAPPED_BYTES

    def _size(self, name: str) -> int:
        try:
            return self.path(name).stat().st_size
        except FileNotFoundError:
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        return name not in self.hidden and (name in self.held or self.path(str(name)).is_file())

    def __iter__(self) -> Iterator[str]:
        on_disk = [n for n in resource_names() if self.path(n).is_file()]
        return iter([n for n in [*on_disk, *(n for n in self.held if n not in on_disk)] if n not in self.hidden])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __or__(self, other: Mapping[str, pa.Table]) -> CorpusTables:
        return CorpusTables(self.folder, {**self.held, **other}, self.hidden - set(other))

    def batches(self, name: str) -> pa.RecordBatchReader:
        """The rows of a table a record batch at a time, about ``BATCH_BYTES`` of its file mapped at once and
        unmapped once their batches are dropped (``kehoach.core.model.record_batches``). A table looked up is
        one map: the pages a step touches stay resident while it holds the table, and a corpus's largest
        tables, written out or loaded into the DuckDB file whole, took the stage of 20,000 plans over 3 GB.
        (A map a batch cost a quarter of a refresh's writing of a 1,000-plan corpus: its footer read again.)"""
        if self._small(name):
            return self[name].to_reader()
        path = str(self.path(name))
        with pa.memory_map(path) as source:
            reader = pa.ipc.open_file(source)
            schema, count = reader.schema, reader.num_record_batches
        per_map = max(1, BATCH_BYTES * count // self._size(name))  # the batches of about BATCH_BYTES
        return pa.RecordBatchReader.from_batches(schema, _mapped_by(path, count, per_map))

    def scanned(self, name: str) -> pa.Table | Rescanned:
        """A table to query as often as asked (``kehoach.core.model.queried``): a large one as a stream read
        anew, a record batch at a time, at each scan (``Rescanned``); not through one map, whose pages a query
        touched stay resident while the table is registered (the landing page's charts of 20,000 plans held
        1 GB of them)."""
        return self[name] if self._small(name) else Rescanned(self, name)

    def num_rows(self, name: str) -> int:
        """Rows of a table, from its file's footer (nothing read)."""
        if name in self.held:
            return self.held[name].num_rows
        with pa.memory_map(str(self.path(name))) as source:
            reader = pa.ipc.open_file(source)
            return sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))


@dataclass(frozen=True)
class Rescanned:
    """A table of a corpus DuckDB reads anew at each scan, through the Arrow stream interface (DuckDB asks
    ``__arrow_c_stream__`` for a stream each time it scans a registered object): ``CorpusTables.batches``."""

    tables: CorpusTables
    name: str

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self.tables.batches(self.name).__arrow_c_stream__(requested_schema)


def _mapped_by(path: str, count: int, per_map: int) -> Iterator[pa.RecordBatch]:
    """The file's ``count`` batches, ``per_map`` of them read from each map (their buffers hold it alone)."""
    for first in range(0, count, per_map):
        with pa.memory_map(path) as source:
            reader = pa.ipc.open_file(source)
            for i in range(first, min(first + per_map, count)):
                yield reader.get_batch(i)


def without(tables: Mapping[str, pa.Table], *names: str) -> Mapping[str, pa.Table]:
    """``tables`` but ``names``; a ``CorpusTables`` stays one (its tables looked up when asked for, not
    all mapped at once for as long as the result is held)."""
    if isinstance(tables, CorpusTables):
        return CorpusTables(tables.folder, tables.held, tables.hidden | set(names))
    return {name: table for name, table in tables.items() if name not in names}


@dataclass(frozen=True)
class Piece:
    """A source's tables, with its parse cache key and the plans it gave (written to the index); or, for a
    piece the last build wrote (``kept``), where each table's rows are in its mapped file (``Run``)."""

    key: str
    plan_ids: tuple[str, ...]
    tables: Tables
    runs: Mapping[str, Run] | None = None


@dataclass
class Run:
    """Rows ``start`` to ``start + count`` of the last build's file at ``path`` (``parent``: its table,
    mapped): consecutive sources unchanged since then are one run, written as the file's record batches
    were, not gathered and copied again (an amended plan in a corpus rewrote every row twice)."""

    parent: pa.Table
    path: Path
    start: int
    count: int

    def follows(self, other: Run) -> bool:
        return self.parent is other.parent and other.start + other.count == self.start

    def rows(self) -> pa.Table:
        return self.parent.slice(self.start, self.count)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The run's rows, a record batch of the file at a time read into memory and let go: read through
        the map, every page of the corpus's files would stay in the process's resident memory until the
        map is dropped (20,000 plans: 6 GB)."""
        end, offset = self.start + self.count, 0
        with pa.OSFile(str(self.path)) as source:
            reader = pa.ipc.open_file(source)
            for i, length in enumerate(len(chunk) for chunk in self.parent.column(0).chunks):
                if offset < end and offset + length > self.start:
                    low = max(self.start - offset, 0)
                    yield reader.get_batch(i).slice(low, min(end - offset, length) - low)
                offset += length


class _Rows:
    """Rows written to one file a batch at a time; how many were given."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.pending: list[pa.Table | Run] = []
        self.rows = 0
        self.schema = schema
        self.writer = pa.ipc.new_file(str(path), schema)

    def add(self, table: pa.Table | Run) -> None:
        """Gather rows: a table, or a ``Run`` of the last build's file (joined to the run before it when it follows)."""
        rows = table.count if isinstance(table, Run) else table.num_rows
        if not rows:
            return
        last = self.pending[-1] if self.pending else None
        if isinstance(table, Run) and isinstance(last, Run) and table.follows(last):
            last.count += table.count
        else:
            # a run's copy: the next one that follows lengthens this one, not the caller's
            self.pending.append(replace(table) if isinstance(table, Run) else table)
        self.rows += rows

    def gathered(self) -> pa.Table:
        """The rows gathered since the last flush (mapped runs and new rows, no copy)."""
        return pa.concat_tables([self.schema.empty_table(),
                                 *(item.rows() if isinstance(item, Run) else item for item in self.pending)])

    def flush(self) -> None:
        """Write what was gathered: a run as its file's chunks, new rows between runs as one batch."""
        new: list[pa.Table] = []
        for item in [*self.pending, None]:
            if isinstance(item, pa.Table):
                new.append(item)
                continue
            if new:
                self._write(pa.concat_tables(new).combine_chunks())
                new = []
            if item is not None:
                for batch in item.batches():
                    self.writer.write_batch(batch)
        self.pending = []

    def _write(self, table: pa.Table) -> None:
        for part in table.to_batches():
            if part.num_rows:
                self.writer.write_batch(part)

    def close(self) -> None:
        self.flush()
        self.writer.close()


class _TableFile:
    """One table's file, its rows written a batch at a time; a shared code list's every row too."""

    def __init__(self, name: str, folder: Path) -> None:
        self.shared_key = shared_key(name)
        self.seen: set[tuple] = set()
        schema = arrow_schema(name)
        self.kept = _Rows(folder / f"{name}{TABLE_SUFFIX}", schema)
        self.every = _Rows(folder / f"{name}{ALL_SUFFIX}", schema) if self.shared_key else self.kept
        # bytes a row, measured on the first rows given: a slice's ``nbytes`` walks its buffers (a second
        # for a corpus's 30,000 slices), and the batches need the size only roughly
        self.row_bytes: float | None = None

    def add(self, table: pa.Table | Run) -> tuple[int, list[int]]:
        """Gather a source's rows (a ``Run``: where they are in the last build's file); the bytes they hold
        in memory (none for a run: its pages are the file's), and where they are ([first row, rows] in
        the file of every row)."""
        rows = table.count if isinstance(table, Run) else table.num_rows
        span = [self.every.rows, rows]
        self.every.add(table)
        if isinstance(table, Run) or not rows:
            return 0, span
        if self.row_bytes is None:
            self.row_bytes = table.nbytes / rows
        return int(rows * self.row_bytes), span

    def flush(self) -> None:
        if self.shared_key:  # a code list the plans share: the first row of each key, of a batch at a time
            self.kept.add(first_per_key(self.every.gathered(), self.shared_key, self.seen))
            self.every.flush()
        self.kept.flush()

    def close(self) -> None:
        self.flush()
        self.kept.close()
        if self.every is not self.kept:
            self.every.close()


def write_tables(folder: Path, pieces: Iterable[Tables | Piece]) -> CorpusTables:
    """The corpus of ``pieces`` (each a source's tables, in order) written into ``folder`` (made
    anew, renamed over the old one once whole), a batch at a time; the tables as ``CorpusTables``.
    Where each ``Piece``'s rows are is written to the index, for the next build (``kept``)."""
    new = folder.with_name(folder.name + ".new")
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir(parents=True)
    files = {name: _TableFile(name, new) for name in resource_names()}
    index: dict[str, dict] = {}
    try:
        gathered = 0
        for piece in pieces:
            # a piece the last build wrote: its runs of rows in the mapped files, not sliced one by one
            own = (piece.runs if piece.runs is not None else piece.tables) if isinstance(piece, Piece) else piece
            spans = {}
            for name, rows in own.items():
                size, spans[name] = files[name].add(rows)
                gathered += size
            if isinstance(piece, Piece):
                index[piece.key] = {"plans": list(piece.plan_ids), "rows": spans}
            if gathered >= BATCH_BYTES:
                for file in files.values():
                    file.flush()
                gathered = 0
    finally:
        for file in files.values():
            file.close()
    (new / INDEX_FILE).write_text(json.dumps(index), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)  # a mapped file stays readable until its last map is dropped
    os.rename(new, folder)
    # the entries' and batches' memory given back now, not when the allocator's decay would
    pa.default_memory_pool().release_unused()
    return CorpusTables(folder)


def kept(folder: Path) -> dict[str, Piece]:
    """The pieces the last build wrote into ``folder``, by key: where each source's rows are in its files
    (``Run``: nothing read); none when there are no such files (or they cannot be read)."""
    try:
        index = json.loads((folder / INDEX_FILE).read_text(encoding="utf-8"))
        paths = {name: folder / f"{name}{ALL_SUFFIX if shared_key(name) else TABLE_SUFFIX}"
                 for name in resource_names()}
        files = {name: _mapped(path) for name, path in paths.items()}
    except (OSError, ValueError, pa.ArrowException):
        return {}
    for name, table in files.items():  # a file that is not the one indexed: nothing taken from any
        if table.num_rows != sum(entry["rows"][name][1] for entry in index.values() if name in entry["rows"]):
            return {}
    return {key: _kept_piece(key, entry, files, paths) for key, entry in index.items()}


def _kept_piece(key: str, entry: dict, files: Mapping[str, pa.Table], paths: Mapping[str, Path]) -> Piece:
    """A source's rows where the last build wrote them: its runs (its ``tables`` are not sliced: only
    ``write_tables`` reads a kept piece, by its runs)."""
    runs = {name: Run(files[name], paths[name], *entry["rows"][name]) for name in resource_names()
            if name in entry["rows"]}
    return Piece(key, tuple(entry["plans"]), {}, runs)


def _mapped(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()
