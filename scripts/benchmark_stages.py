#!/usr/bin/env python3
"""Benchmarks: print how long each stage takes (no thresholds; CI never times tests).

    .venv/bin/python scripts/benchmark_stages.py [--repeat N] [--scale K] [--prefect]

--scale K also times a synthetic plan whose appendix tables are K times longer
(rows repeated with new numbers), to see how parsing and validation scale.
--prefect also times a full `kehoach build` through Prefect (includes the
temporary server start-up, which dominates).
--linear N times parsing of hostile plans that once took quadratic time (issue
11): one line citing N documents, 2·N appendix headings, 5·N related-list
entries (default N = 10,000; 0 skips them). Each should stay well under a second.
"""

from __future__ import annotations

import argparse
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
from kehoach.parse.plan import parse_source  # noqa: E402
from kehoach.publish.targets import publish  # noqa: E402
from kehoach.read.sources import read_source  # noqa: E402
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
    """A related-documents list of ``n`` entries at the top."""
    entries = [f"- {k} Quyết định {k}/QĐ-UBND năm 2020 về việc số {k}" for k in range(1, n + 1)]
    return "\n".join([*entries, text])


def linear_cases(text: str, n: int) -> None:
    """Time the parse of texts that once made parsing quadratic."""
    cases = (("citations on one line", many_citations, n), ("appendix headings", many_headings, 2 * n),
             ("related-list entries", many_related, 5 * n))
    with tempfile.TemporaryDirectory() as tmp:
        for label, make, count in cases:
            path = Path(tmp) / "hostile.txt"
            path.write_text(make(text, count), encoding="utf-8")
            source = read_source(path)
            cpus = []

            def parse(s=source, cpus=cpus):
                cpu = time.process_time()
                parse_source(s)
                cpus.append(time.process_time() - cpu)  # on a shared machine, closer to the parse's own cost

            seconds, _ = timed(parse, LINEAR_RUNS)
            cpu = statistics.median(cpus)
            report(f"parse, {count:,} {label}", seconds,
                   f"{len(source.lines)} lines, {seconds / count * 1e6:.0f} µs per item, CPU {cpu * 1000:.0f} ms "
                   f"(medians of {LINEAR_RUNS} runs; target: the whole under 1 s)")


def report(label: str, seconds: float, extra: str = "") -> None:
    print(f"{label:<44} {seconds * 1000:9.1f} ms  {extra}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--prefect", action="store_true")
    parser.add_argument("--linear", type=int, default=10_000)
    args = parser.parse_args()

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
    schemas, derived = build.current_schemas()
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
        linear_cases(PLAN.read_text(encoding="utf-8"), args.linear)

    if args.prefect:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            subprocess.run([str(ROOT / ".venv" / "bin" / "kehoach"), "build", "--out", str(Path(tmp) / "o")],
                           check=True, capture_output=True)
            report("kehoach build through Prefect (cold server)", time.perf_counter() - start)


if __name__ == "__main__":
    main()
