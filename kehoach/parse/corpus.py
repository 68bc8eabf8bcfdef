"""A corpus's parse: the tables of many sources, one after another or in
batches (the flow's tasks), concatenated into one set of tables.

With a parse cache (``kehoach.parse.cache``), only the sources without a
valid entry are parsed (``missing``); each parsed source's tables are stored
as its entry where it was parsed (``store``), and the corpus is assembled
from the entries, in the order of the sources, into table files read through memory maps
(``assemble``, ``kehoach.parse.corpus_tables``: no step holds every table of the corpus)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from kehoach.core.errors import KehoachError
from kehoach.core.model import Tables, concat
from kehoach.parse.cache import ParseCache, entry_key
from kehoach.parse.corpus_tables import Piece, folder_beside, kept, write_tables
from kehoach.parse.plan import PlanRows, read_plan, typed
from kehoach.parse.series import link_series
from kehoach.read.sources import SourceFile, SourceRecord, SourceText, decode_source


def parse_sources(sources: list[SourceText] | list[SourceFile], cache: ParseCache | None = None) -> Tables:
    """The parse step here: every source parsed, one after another; a file's
    bytes decoded as it is parsed, so that a corpus's texts are not all held
    at once (the flow fans out instead, each task reading its own texts).
    With a ``cache``, only the sources without an entry are parsed."""
    if cache is None:
        return combine([parsed(read_plan(_text(s)) for s in sources)])
    keys = source_keys(sources)

    def parse_missing(indices: list[int]) -> None:
        store(cache, ((keys[i], read_plan(_text(sources[i]))) for i in indices))
    return assemble(sources, keys, cache, parse_missing)


def _text(source: SourceText | SourceFile) -> SourceText:
    return source if isinstance(source, SourceText) else decode_source(source)


@dataclass(frozen=True)
class Parsed:
    """Tables parsed from some sources, concatenated, and the plans each source
    gave (a plan given by two sources is an error, found when all are combined)."""

    tables: Tables
    plans: tuple[tuple[str, tuple[str, ...]], ...]  # (source path, its plan ids), in source order


# Plans whose rows are typed together (``kehoach.parse.plan.typed``): most of a
# conversion's fixed cost saved, while the rows of only this many plans are held
# as Python objects, not a batch's.
TYPED_TOGETHER = 10


def parsed(plans: Iterable[PlanRows]) -> Parsed:
    """The plans' tables, typed ``TYPED_TOGETHER`` plans at a time as they come,
    and concatenated once (where they were parsed: a batch of plans travels back
    from a worker as one set of tables, not as thousands of small ones)."""
    parts: list[Tables] = []
    owners, group = [], []
    for plan in plans:
        owners.append((plan.path, plan.plan_ids()))
        group.append(plan)
        if len(group) == TYPED_TOGETHER:
            parts.append(typed(group))
            group = []
    if group:
        parts.append(typed(group))
    return Parsed(concat(parts), tuple(owners))


def source_keys(sources: Sequence[SourceRecord | SourceFile]) -> list[str]:
    return [entry_key(s.path, s.sha256) for s in sources]


def store(cache: ParseCache, keyed: Iterable[tuple[str, PlanRows]]) -> None:
    """Each plan's entry, its rows typed ``TYPED_TOGETHER`` plans at a time and
    cut back into each plan's (the rows of a plan are contiguous in each table)."""
    group: list[tuple[str, PlanRows]] = []
    for item in keyed:
        group.append(item)
        if len(group) == TYPED_TOGETHER:
            _store_group(cache, group)
            group = []
    if group:
        _store_group(cache, group)


def _store_group(cache: ParseCache, group: list[tuple[str, PlanRows]]) -> None:
    tables = typed([plan for _, plan in group])
    starts = dict.fromkeys(tables, 0)
    for key, plan in group:
        own = {}
        for name, table in tables.items():
            count = len(plan.rows[name])
            own[name] = table.slice(starts[name], count)
            starts[name] += count
        cache.store(key, own, plan.plan_ids(), plan.rendering)


def assemble(sources: Sequence[SourceRecord | SourceFile], keys: list[str], cache: ParseCache,
             parse_missing: Callable[[list[int]], None]) -> Tables:
    """The corpus from the cache: the sources without an entry parsed by ``parse_missing`` (given
    their indices; it stores their entries), then, in the order of the sources, each source's rows
    written to the corpus's table files (``corpus_tables``: one entry in memory at a time): those the
    last build wrote for the same key (``corpus_tables.kept``), else its entry's; an entry found corrupt
    on the way is parsed again there. Entries of no source here are pruned."""
    missing = [i for i, key in enumerate(keys) if not cache.path(key).is_file()]
    if missing:
        parse_missing(missing)
    owners: list[tuple[str, tuple[str, ...]]] = []
    folder = folder_beside(cache.folder)
    previous = kept(folder)  # the last build's rows of each source, by key: a source unchanged is not read again

    def pieces() -> Iterator[Piece]:
        for i, (source, key) in enumerate(zip(sources, keys, strict=True)):
            piece = previous.get(key) or _entry_piece(cache, key, i, parse_missing, source.path)
            owners.append((source.path, piece.plan_ids))
            yield piece

    tables = write_tables(folder, pieces())
    previous.clear()  # the old files' maps let go of
    cache.prune(set(keys))
    check_owners(owners)
    return link_series(tables)


def _entry_piece(cache: ParseCache, key: str, index: int, parse_missing: Callable[[list[int]], None],
                 path: str) -> Piece:
    """A source's tables from its entry; an entry cut short or corrupt (then removed) is parsed again
    (``parse_missing`` given its index), never used."""
    entry = cache.load(key)
    if entry is None:
        parse_missing([index])
        entry = cache.load(key)
    if entry is None:
        raise KehoachError(f"the parse stored no readable entry in {cache.folder}", path)
    return Piece(key, entry.plan_ids, entry.tables)


def combine(pieces: list[Parsed]) -> Tables:
    """The corpus in memory: the pieces' tables, in their order, concatenated once; its plans linked
    to the plans they follow, and their tasks to the tasks they continue (``link_series``: it needs them all)."""
    check_owners([owner for piece in pieces for owner in piece.plans])
    # a batch's piece is one chunk per column already: a few chunks, not re-copied
    tables = pieces[0].tables if len(pieces) == 1 else concat([piece.tables for piece in pieces], rechunk=False)
    return link_series(tables)


def check_owners(plans: Iterable[tuple[str, tuple[str, ...]]]) -> None:
    """A plan given by two sources is an error: (source path, its plan ids) of every source."""
    owners: dict[str, list[str]] = {}
    for path, plan_ids in plans:
        for plan_id in plan_ids:
            owners.setdefault(plan_id, []).append(path)
    duplicates = sorted(p for p, files in owners.items() if len(files) > 1)
    if duplicates:
        files = owners[duplicates[0]]
        raise KehoachError(f"plan {duplicates[0]} is given by more than one source: {', '.join(files)}")
