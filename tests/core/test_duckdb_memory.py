"""DuckDB under a memory limit spills into the package's folder, and leaves nothing there (``duckdb_memory``)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading

import pyarrow as pa
import pytest

from kehoach.core.duckdb_memory import MEMORY_ENV, SHARED, bounded, budget, fits_beside, spill_dir
from kehoach.core.errors import KehoachError
from kehoach.package import pending


def test_a_table_over_the_limit_is_spilled_in_the_package_then_removed(tmp_path, monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "20MB")
    with bounded(tmp_path) as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "19.0 MiB"
        # about 60 MB of text: more than the limit, so DuckDB writes blocks out
        con.execute("CREATE TABLE t AS SELECT range AS i, repeat('x', 50) || range::VARCHAR AS s FROM range(1000000)")
        assert any(spill_dir(tmp_path).iterdir())
        assert con.execute("SELECT count(*), max(i) FROM t").fetchone() == (1_000_000, 999_999)
    assert list(tmp_path.iterdir()) == []


def test_the_budget_is_one_setting_read_as_duckdb_reads_sizes(monkeypatch):
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    assert budget() == 1_536_000_000
    for text, size in [("512MB", 512_000_000), ("1.5GiB", 1_610_612_736), (" 4gb ", 4_000_000_000)]:
        monkeypatch.setenv(MEMORY_ENV, text)
        assert budget() == size
    monkeypatch.setenv(MEMORY_ENV, "lots")
    with pytest.raises(KehoachError, match="KEHOACH_DUCKDB_MEMORY='lots' is not a size"):
        budget()


def test_a_connection_has_its_share_of_the_budget(tmp_path, monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "100MB")
    with bounded(tmp_path, SHARED) as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "47.6 MiB"
    assert fits_beside(50_000_000) and not fits_beside(50_000_001)


def _limit(con) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def _open_in_a_thread(tmp_path, share: float, opened: list, close: threading.Event) -> threading.Thread:
    """A thread that opens a connection with ``share`` of the budget, says its limit, holds it until ``close``."""
    def run() -> None:
        with bounded(tmp_path, share) as con:
            opened.append(_limit(con))
            close.wait(60)
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_the_connections_open_at_once_hold_at_most_the_whole_budget(tmp_path, monkeypatch):
    """The DuckDB file of a large corpus has the whole budget: the landing page's charts (half) wait for
    it, whichever thread opens them; two halves are open at once."""
    monkeypatch.setenv(MEMORY_ENV, "100MB")
    opened, close = [], threading.Event()
    whole = _open_in_a_thread(tmp_path, 1.0, opened, close)
    while not opened:
        whole.join(0.01)
    closed_half = threading.Event()
    half = _open_in_a_thread(tmp_path, SHARED, opened, closed_half)
    half.join(0.5)
    assert half.is_alive() and opened == ["95.3 MiB"]  # still waiting for its half
    close.set()
    whole.join(10)
    while len(opened) < 2 and half.is_alive():
        half.join(0.01)
    assert opened == ["95.3 MiB", "47.6 MiB"]  # opened once the whole was given back
    closed_half.set()
    half.join(10)
    assert not half.is_alive()
    with bounded(tmp_path, SHARED) as first, bounded(tmp_path, SHARED) as second:  # no wait: half and half
        assert (_limit(first), _limit(second)) == ("47.6 MiB", "47.6 MiB")
    with bounded(tmp_path, 1.0) as con:  # every share given back
        assert _limit(con) == "95.3 MiB"
    assert list(tmp_path.iterdir()) == []


def _recording_hook(seen: list, release: threading.Event):
    def hook(tables, directory, extra, share, in_place):
        release.wait(60)
        seen.append(share)
        return []
    return hook


@pytest.mark.parametrize("memory, share, waits", [("1GB", SHARED, False), ("1KB", 1.0, True)])
def test_the_validation_waits_for_the_duckdb_file_when_both_would_not_fit(tmp_path, monkeypatch, memory, share,
                                                                          waits):
    """Tables that fit in half the budget: the file is written beside the validation, each with half;
    larger ones: the validation waits for the file, each with the whole budget."""
    monkeypatch.setenv(MEMORY_ENV, memory)
    tables = {"t": pa.table({"x": list(range(1000))})}  # 8 KB
    seen, release = [], threading.Event()
    pending.start(tmp_path, [_recording_hook(seen, release)], tables)
    if waits:
        threading.Timer(0.2, release.set).start()
        assert pending.make_room(tmp_path) == 1.0 and seen == [1.0]  # the file was done first
    else:
        assert pending.make_room(tmp_path) == share and seen == []  # still being written beside
        release.set()
    pending.finish(tmp_path, {"resources": []})
    assert seen == [share]


# In a child: a spill past a file-size limit (as a full disk: the write fails), the error raised by bounded().
_SPILL_PAST_THE_LIMIT = """
import resource, signal, sys
from pathlib import Path
from kehoach.core import duckdb_memory
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing the process
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 16, 1 << 16))
try:
    with duckdb_memory.bounded(Path(sys.argv[1]), threads=1) as con:
        con.execute("SELECT count(*) FROM (SELECT range, hash(range) AS h FROM range(20000000) ORDER BY h)").fetchall()
except OSError as exc:
    print(exc.errno, exc.filename)
"""


def test_a_spill_the_disk_refuses_is_the_oserror_it_was(tmp_path):
    """Any bounded connection, not only the DuckDB file's: a spill that cannot be written (a full disk)
    is an OSError naming the file (the CLI's one line, exit 2), not DuckDB's IOException (an "internal
    error": seen when a 20,000-plan refresh filled the disk)."""
    done = subprocess.run([sys.executable, "-c", _SPILL_PAST_THE_LIMIT, str(tmp_path)], capture_output=True,
                          text=True, env={**os.environ, MEMORY_ENV: "64MB"}, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    number, filename = done.stdout.split()
    assert int(number) == errno.EFBIG and filename.startswith(str(spill_dir(tmp_path).parent / ".spill-"))
    assert list(tmp_path.iterdir()) == []  # the spill removed all the same
