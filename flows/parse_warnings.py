"""A corpus's parser warnings, summed up by the flow.

The parser warns through ``logging`` with the place first ('plan.txt:81:
reference … names no single known document'). A batch of sources parsed on a
Dask worker keeps its warnings (``kept``) and returns them with its tables;
the flow then logs them (``summary``): each one when they are few, else one
line per kind with its count and the first place it was found, so that a
warning every plan of a thousand-plan corpus gives is one line, not a
thousand. The worker prints none of them itself.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator

LIBRARY_LOGGER = "kehoach"
# 'path:line: what' -> the place and what is wrong (a place is a path and a line number)
_PLACED = re.compile(r"(?P<where>.+?:\d+): (?P<what>.+)", re.DOTALL)


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def kept() -> Iterator[list[str]]:
    """The library's warnings in the block, in order, kept instead of printed."""
    library = logging.getLogger(LIBRARY_LOGGER)
    handler, propagate = _Kept(), library.propagate
    library.addHandler(handler)
    library.propagate = False
    try:
        yield handler.messages
    finally:
        library.removeHandler(handler)
        library.propagate = propagate


def summary(warnings: list[str], named: int) -> list[str]:
    """The lines to log for ``warnings``: each one when there are at most ``named``; else one line
    per kind (a warning without its place), the most frequent first, with its count and the place
    it was first found; at most ``named`` kinds, then how many are left out."""
    if len(warnings) <= named:
        return list(warnings)
    kinds: dict[str, list] = {}  # what -> [count, first place]; in the order first found
    for message in warnings:
        placed = _PLACED.fullmatch(message)
        what, where = (placed["what"], placed["where"]) if placed else (message, None)
        kinds.setdefault(what, [0, where])[0] += 1
    ordered = sorted(kinds.items(), key=lambda kind: -kind[1][0])
    lines = [f"the parse gave {len(warnings)} warnings, of {len(kinds)} kind(s):"]
    lines += [f"{count} × {what}" + (f" (first at {where})" if where else "")
              for what, (count, where) in ordered[:named]]
    if len(ordered) > named:
        left = ordered[named:]
        lines.append(f"… and {len(left)} more kind(s): {sum(count for _, (count, _) in left)} warning(s)")
    return lines
