"""A corpus's parse: the tables of many sources, one after another or in
batches (the flow's tasks), concatenated into one set of tables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kehoach.core.errors import KehoachError
from kehoach.core.model import Tables, concat
from kehoach.parse.plan import PlanRows, read_plan, typed
from kehoach.parse.series import link_series
from kehoach.read.sources import SourceFile, SourceText, decode_source


def parse_sources(sources: list[SourceText] | list[SourceFile]) -> Tables:
    """The parse step here: every source parsed, one after another; a file's
    bytes decoded as it is parsed, so that a corpus's texts are not all held
    at once (the flow fans out instead, each task reading its own texts)."""
    return combine([parsed(read_plan(_text(s)) for s in sources)])


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


def combine(pieces: list[Parsed]) -> Tables:
    """The corpus: the pieces' tables, in their order, concatenated once; its plans linked to the
    plans they follow, and their tasks to the tasks they continue (``link_series``: it needs them all)."""
    owners: dict[str, list[str]] = {}
    for piece in pieces:
        for path, plan_ids in piece.plans:
            for plan_id in plan_ids:
                owners.setdefault(plan_id, []).append(path)
    duplicates = sorted(p for p, files in owners.items() if len(files) > 1)
    if duplicates:
        files = owners[duplicates[0]]
        raise KehoachError(f"plan {duplicates[0]} is given by more than one source: {', '.join(files)}")
    # each piece is one chunk per column already: a few chunks, not re-copied
    tables = pieces[0].tables if len(pieces) == 1 else concat([piece.tables for piece in pieces], rechunk=False)
    return link_series(tables)
