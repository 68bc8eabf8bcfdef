"""DuckDB under a memory limit spills into the package's folder, and leaves nothing there (``duckdb_memory``)."""

from __future__ import annotations

from kehoach.core.duckdb_memory import MEMORY_ENV, bounded, spill_dir


def test_a_table_over_the_limit_is_spilled_in_the_package_then_removed(tmp_path, monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "20MB")
    with bounded(tmp_path) as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "19.0 MiB"
        # about 60 MB of text: more than the limit, so DuckDB writes blocks out
        con.execute("CREATE TABLE t AS SELECT range AS i, repeat('x', 50) || range::VARCHAR AS s FROM range(1000000)")
        assert any(spill_dir(tmp_path).iterdir())
        assert con.execute("SELECT count(*), max(i) FROM t").fetchone() == (1_000_000, 999_999)
    assert list(tmp_path.iterdir()) == []
