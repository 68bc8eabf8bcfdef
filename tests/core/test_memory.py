"""What a step freed is given back to the system before the next step (``kehoach.core.memory``)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from kehoach.core.memory import release


def _anonymous_mb() -> int:
    """This process's anonymous resident memory (Linux: /proc/self/status), in MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["RssAnon"].split()[0]) // 1024


def test_the_pages_arrow_freed_are_given_back():
    release()
    before = _anonymous_mb()
    columns = [pa.array(range(1_000_000), pa.int64()) for _ in range(25)]  # 200 MB from Arrow's pool
    assert _anonymous_mb() >= before + 150
    del columns
    release()
    assert _anonymous_mb() <= before + 50  # without release() the pool kept all 235 MB (measured)
