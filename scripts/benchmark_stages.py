#!/usr/bin/env python3
"""Benchmarks: print how long each stage takes (no thresholds; CI never times tests).

    .venv/bin/python scripts/benchmark_stages.py [--repeat N] [--scale K] [--prefect]
        [--linear N] [--hostile-bytes B] [--hostile-only]

--scale K also times a synthetic plan whose appendix tables are K times longer
(rows repeated with new numbers), to see how parsing and validation scale.
--prefect also times a full `kehoach build` through Prefect (includes the
temporary server start-up, which dominates).
--linear N times reading and parsing (and inspecting) hostile plans that once took
quadratic time or were slow per line (issues 11 and 23), in MB/s of CPU: one line
citing N documents, 2·N appendix headings, 5·N distinct related decisions, laws and
footnotes, one assessment paragraph of 2·N figures (default N = 10,000; 0 skips them),
and texts of --hostile-bytes (5 MB): millions of short table lines, dense rows, a cell wrapped over many lines, cells of
100,000 characters, a long footnote; and a 20-digit list number (refused on its
line). Target: at least 1 MB/s each. --hostile-only times only these (make bench).
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kehoach import build  # noqa: E402
from kehoach.audit.runner import run_audit  # noqa: E402
from kehoach.core.errors import KehoachError  # noqa: E402
from kehoach.parse.inspection import inspect_file  # noqa: E402
from kehoach.parse.plan import parse_source  # noqa: E402
from kehoach.publish.targets import publish  # noqa: E402
from kehoach.read.sources import read_source  # noqa: E402
from kehoach.versions.comparison import current_schemas  # noqa: E402
from kehoach.versions.diff import diff_tables  # noqa: E402

PLAN = ROOT / "raw" / "qni-219-KH-UBND-2023.txt"


# Runs of each hostile case (medians printed).
LINEAR_RUNS = 5


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def scaled_plan(text: str, k: int) -> str:
    """Repeat every appendix item row k times with fresh sub-numbers (1.1 -> 1.1, 1.101, 1.201 …)."""
    out = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^(\d+)\.(\d+) \|", line)
        if not m:
            out.append(line)
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j].startswith("|"):
            j += 1
        block = lines[i:j]
        for copy in range(k):
            code = f"{m[1]}.{int(m[2]) + 100 * copy}"
            out.append(re.sub(r"^\d+\.\d+", code, block[0]))
            out.extend(block[1:])
        i = j
    return "\n".join(out)


def _body_line(lines: list[str]) -> int:
    """Index of the first narrative paragraph ('- …') after the header."""
    source_start = next(i for i, x in enumerate(lines) if not x.startswith("- ") and x.strip())
    return next(i for i in range(source_start, len(lines)) if lines[i].startswith("- "))


# Words of a subject: ``subject(k)`` writes k in base len(_SUBJECT_WORDS) with them, so each entry
# names a document of its own (one name repeated let Python's regex cache hide a per-name cost).
_SUBJECT_WORDS = ("an", "ninh", "kinh", "tế", "xã", "hội", "giáo", "dục", "y", "giao", "thông", "nông", "nghiệp",
                  "du", "lịch", "môi", "trường", "văn", "hóa", "thể", "thao", "khoa", "học", "công", "nghệ", "tài",
                  "chính", "ngân", "hàng", "thương", "mại")


def subject(k: int) -> str:
    words = []
    while True:
        k, digit = divmod(k, len(_SUBJECT_WORDS))
        words.append(_SUBJECT_WORDS[digit])
        if not k:
            return " ".join(words)


def many_citations(text: str, n: int) -> str:
    """One paragraph citing ``n`` decisions by number."""
    lines = text.split("\n")
    at = _body_line(lines)
    cited = "; ".join(f"Quyết định số {k}/QĐ-UBND ngày 01/02/2020" for k in range(1, n + 1))
    return "\n".join([*lines[:at], f"- Căn cứ {cited}.", *lines[at:]])


def many_headings(text: str, n: int) -> str:
    """``n`` appendix headings (without tables) before the real appendices."""
    lines = text.split("\n")
    at = next(i for i, x in enumerate(lines) if x.strip().upper().startswith("PHỤ LỤC"))
    return "\n".join([*lines[:at], *(f"PHỤ LỤC {k}\nDanh mục {k}" for k in range(1, n + 1)), *lines[at:]])


def many_related(text: str, n: int) -> str:
    """A related-documents list of ``n`` distinct decisions at the top."""
    entries = [f"- {k} Quyết định {k}/QĐ-UBND năm 2020 về {subject(k)} do UBND tỉnh Quảng Ngãi ban hành"
               for k in range(1, n + 1)]
    return "\n".join([*entries, text])


def many_laws(text: str, n: int) -> str:
    """A related-documents list of ``n`` distinct laws (documents known by name) at the top."""
    return "\n".join([*(f"- {k} Luật {subject(k)} 2020" for k in range(1, n + 1)), text])


def many_footnotes(text: str, n: int) -> str:
    """``n`` distinct footnotes at the end."""
    return "\n".join([text.rstrip("\n"), *(f"[{k}] Ghi chú về {subject(k)}" for k in range(3, n + 3))])


def many_figures(text: str, n: int) -> str:
    """One assessment paragraph (the first of Part I) stating ``n`` figures, each about a subject of its own,
    two to a sentence (each figure's row keeps its sentence)."""
    lines = text.split("\n")
    part = next(i for i, x in enumerate(lines) if x.startswith("Phần "))
    at = next(i for i in range(part, len(lines)) if lines[i].startswith("- "))
    stated = " ".join(f"Tỷ lệ {subject(k)} đạt {k % 97 + 1}%, hơn {k + 1} lượt người tham gia." for k in range(n // 2))
    return "\n".join([*lines[:at], f"- {stated}", *lines[at:]])


def _in_first_table(text: str, block: list[str], size: int) -> str:
    """``block`` (whole rows of the first appendix table, 4 cells wide) repeated to about ``size`` bytes,
    before the second appendix."""
    lines = text.split("\n")
    at = [i for i, x in enumerate(lines) if x.strip().upper().startswith("PHỤ LỤC")][1]
    copies = max(1, size // sum(len(x.encode()) + 1 for x in block))
    return "\n".join([*lines[:at], *block * copies, *lines[at:]])


def table_lines(text: str, size: int) -> str:
    """Millions of short table lines: a row ('1.4 | text |' and two empty cells), then 25 empty rows."""
    return _in_first_table(text, ["1.4 | text |", "|", "|", *["|"] * 100], size)


def dense_rows(text: str, size: int) -> str:
    """Rows of three short lines each ('1.4 | text |' and two empty cells): a task row every 17 bytes."""
    return _in_first_table(text, ["1.4 | text |", "|", "|"], size)


def wrapped_cell(text: str, size: int) -> str:
    """One task name wrapped over many lines (no '|' on them)."""
    return _in_first_table(text, ["1.4 | text", *["tiếp theo"] * (size // 10), "| Sở Nội vụ | 2024 |"], size)


def long_cells(text: str, size: int) -> str:
    """Rows whose name cell is one line of 100,000 characters."""
    cell = " ".join(subject(k) for k in range(20_000))[:100_000]
    return _in_first_table(text, [f"1.4 | {cell} | Sở Nội vụ | 2024 |"], size)


def long_footnote(text: str, size: int) -> str:
    """One footnote continued over many lines."""
    return "\n".join([text.rstrip("\n"), "[9] Ghi chú", *["tiếp theo"] * (size // 10)])


def huge_list_number(text: str, _: int) -> str:
    """A related-list entry numbered with 20 digits: refused on its line."""
    return f"- {'1' * 20} Quyết định 1/QĐ-UBND năm 2020 về việc thử\n{text}"


def _cpu(fn, *args) -> float:
    start = time.process_time()
    fn(*args)
    return time.process_time() - start


def _read_and_parse(path: Path) -> None:
    parse_source(read_source(path))


def linear_cases(text: str, n: int, size: int) -> None:
    """Time the read and parse (and ``kehoach inspect``) of texts that once made parsing quadratic or
    slow per line, in MB/s of CPU time (on a shared machine, closer to the parse's own cost)."""
    counted = (("citations on one line", many_citations, n), ("appendix headings", many_headings, 2 * n),
               ("distinct related decisions", many_related, 5 * n), ("distinct related laws", many_laws, 5 * n),
               ("distinct footnotes", many_footnotes, 5 * n), ("figures in one paragraph", many_figures, 2 * n))
    sized = (("short table lines", table_lines), ("dense table rows", dense_rows), ("wrapped cell", wrapped_cell),
             ("100,000-character cells", long_cells), ("long footnote", long_footnote),
             ("20-digit list number", huge_list_number))
    cases = [*counted, *((label, make, size) for label, make in sized)]
    logging.disable(logging.WARNING)  # a hostile text's thousands of warnings are not what is measured
    with tempfile.TemporaryDirectory() as tmp:
        for label, make, count in cases:
            path = Path(tmp) / "hostile.txt"
            path.write_text(make(text, count), encoding="utf-8")
            megabytes = path.stat().st_size / 1e6
            lines = len(read_source(path).lines)
            runs = LINEAR_RUNS if megabytes < 1 else 1  # a text of megabytes: one run each, the bench stays short
            try:
                parse = statistics.median(_cpu(_read_and_parse, path) for _ in range(runs))
            except KehoachError as exc:
                report(f"{label}", 0, f"{megabytes:.2f} MB refused: {str(exc).replace(tmp, '…')[:80]}")
                continue
            inspect = _cpu(inspect_file, path)
            report(f"read + parse, {label}", parse,
                   f"{megabytes:.2f} MB, {lines:,} lines: {megabytes / parse:.2f} MB/s; "
                   f"inspect {megabytes / inspect:.2f} MB/s (CPU; target ≥ 1 MB/s)")


def report(label: str, seconds: float, extra: str = "") -> None:
    print(f"{label:<44} {seconds * 1000:9.1f} ms  {extra}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--prefect", action="store_true")
    parser.add_argument("--linear", type=int, default=10_000)
    parser.add_argument("--hostile-bytes", type=int, default=5_000_000, help="size of each sized hostile text")
    parser.add_argument("--hostile-only", action="store_true", help="time only the hostile texts (make bench)")
    args = parser.parse_args()
    if args.hostile_only:
        linear_cases(PLAN.read_text(encoding="utf-8"), args.linear, args.hostile_bytes)
        return

    print(f"kehoach benchmark — {PLAN.name}, median of {args.repeat}")
    seconds, source = timed(lambda: read_source(PLAN), args.repeat)
    report("read + decode + NFC", seconds, f"{len(source.lines)} lines")
    seconds, tables = timed(lambda: parse_source(source), args.repeat)
    rows = sum(t.num_rows for t in tables.values())
    report("parse (all resources)", seconds, f"{rows} rows")

    seconds, audited = timed(lambda: run_audit(tables), args.repeat)
    report("audit (DuckDB, every rule)", seconds, f"{audited.tables['findings'].num_rows} findings")
    tables = audited.tables

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "output"
        seconds, (directory, _) = timed(lambda: build.stage(tables, [source], out), 1)
        report("stage (CSV + Parquet + DuckDB file + README)", seconds)
        seconds, summary = timed(lambda: build.validate_staged(directory, tables, [source]), 1)
        report("validate (Frictionless, CSV + Parquet)", seconds, f"{summary.resources} resources")
        build.swap(directory, out)
        seconds, comparison = timed(lambda: build.compare(tables, out), args.repeat)
        report("compare with the package in place", seconds, f"{len(comparison.changes)} changes")
        seconds, _ = timed(lambda: build.check_inputs([source], out), args.repeat)
        report("check inputs (fingerprint of sources + code)", seconds)
        portal = Path(tmp) / "portal"
        seconds, first = timed(lambda: publish(out, portal, validate=False), 1)
        report("publish to a portal folder (first)", seconds, f"{first.writes} writes")
        seconds, again = timed(lambda: publish(out, portal, validate=False), args.repeat)
        report("publish again (unchanged)", seconds, f"{again.writes} writes")
    schemas, derived = current_schemas()
    seconds, changes = timed(lambda: diff_tables(tables, tables, schemas, derived), args.repeat)
    report("diff against itself (DuckDB)", seconds, f"{len(changes)} changes")

    if args.scale > 1:
        big_text = scaled_plan(PLAN.read_text(encoding="utf-8"), args.scale)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "scaled.txt"
            path.write_text(big_text, encoding="utf-8")
            big = read_source(path)
            seconds, big_tables = timed(lambda: parse_source(big), max(1, args.repeat // 2))
            rows = sum(t.num_rows for t in big_tables.values())
            report(f"parse, appendices x{args.scale}", seconds, f"{len(big.lines)} lines, {rows} rows")
            out = Path(tmp) / "output"
            directory, _ = build.stage(big_tables, [big], out)
            seconds, _ = timed(lambda: build.validate_staged(directory, big_tables, [big]), 1)
            report(f"validate, appendices x{args.scale}", seconds)

    if args.linear:
        linear_cases(PLAN.read_text(encoding="utf-8"), args.linear, args.hostile_bytes)

    if args.prefect:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            subprocess.run([str(ROOT / ".venv" / "bin" / "kehoach"), "build", "--out", str(Path(tmp) / "o")],
                           check=True, capture_output=True)
            report("kehoach build through Prefect (cold server)", time.perf_counter() - start)


if __name__ == "__main__":
    main()
