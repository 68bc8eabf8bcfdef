#!/usr/bin/env python3
"""Benchmark: build corpora of 1, 10, 100, 1,000 plans (no thresholds; CI never times tests).

    .venv/bin/python scripts/benchmark.py [--sizes 1,10,100,1000] [--workdir DIR]
        [--refresh-only] [--refreshes K] [--amended K] [--formats text,docx,odt,html,pdf,scanned-pdf] [--formats-only]

The plan of ``raw/`` is first written as a text PDF and as a scan of every
page (``tests/pdf_renderer.py``), and each is read, rendered and parsed in a
child: seconds (reading, parsing) and peak memory (tesseract's processes included).

Each corpus is made from ``raw/`` by renumbering the plan and varying its
amounts (``tests/corpus.py``). Every build runs in a child process through
the CLI's own path (``flows.cli.main``: its early temporary server, its
checks, the local Dask cluster it starts ahead, the Prefect flow), and
prints: whole-process wall time; when the parse step started (seconds since
the child started); CPU time (user + system of the child
and its reaped descendants: steadier than wall time on a shared machine);
time per stage (``kehoach.build.Steps`` wrapped with timers); peak RSS
(``ru_maxrss`` of the child and its reaped descendants, and the sampled peak
of the whole process tree); and the ratios (wall, CPU) to a trivial one-task
Prefect flow run the same way in the same run. The largest corpus is then
refreshed unchanged (``--refreshes`` times; the median is printed): it must write nothing;
then one of its plans is amended (``corpus.amend``) and it is refreshed again: the parse
cache (``kehoach.parse.cache``) parses that plan only; the ratio to the unchanged refresh
is printed (target: at most 1.5). With ``--amended K``, K plans are amended in turn, each
refresh followed by an unchanged one, and the median of the K ratios is the figure (the
machine's speed moves from minute to minute: a run read against its neighbour).

First, the plan of ``raw/`` is read as issued (``--formats``, default
``text,docx,odt,html,pdf,scanned-pdf``: written by ``tests/renderers.py`` and
``tests/pdf_renderer.py``; the scan is every page of the text PDF rasterised with
skew and noise, one page turned), each in a child process: the seconds to read it
(bytes to the lines of its text: for the scan, the OCR) and to parse it, the child's
CPU and peak RSS and the process tree's (tesseract's processes), the rows flagged
for review (the text's row is the floor: imports and parser). The scan is then
measured against the text (issue 24's acceptance, ``tests/scan_quality.py``): the
task rows read exactly, the budget amounts exact, flagged for review, wrong or
missing; and a document of 31 pages (the issue's budget: 180 s on 2 cores), the
plan and the first pages of other real plans of the family, is scanned and read
(``--formats-only``: these alone).

Last, under load (one more CPU-bound process than there are cores, started
and stopped here), a build of each of ``--load-sizes`` (default 1 and 200
plans; empty: none), each with a new Prefect home (its temporary server's
first start creates the database, as on a fresh machine): what a busy
machine costs (issue 27).

``--workdir DIR`` keeps the corpora and their packages in ``DIR`` (a
temporary directory otherwise); with ``--refresh-only`` the builds are
skipped and the largest package already in ``DIR`` is only refreshed (unchanged,
then with one plan amended), to measure a refresh again without waiting for a build.

First, the task lineage of a plan series (issue 25) is measured on the series
``tests/series.py`` makes from ``raw/`` (next year's plan: tasks dropped, added,
reworded, renumbered; then the plan after the 2025 reorganisation): the
precision and recall of its links against what the generator did, and the time
``link_series`` takes (``--series-only``: that alone).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import psutil  # noqa: E402
import pypdfium2  # noqa: E402
from corpus import amend, write_corpus  # noqa: E402
from pdf_renderer import scan, text_pdf  # noqa: E402
from renderers import plan_structure, to_docx, to_html, to_odt  # noqa: E402
from scan_quality import scan_quality  # noqa: E402
from series import precision_recall, series  # noqa: E402

PLAN = ROOT / "raw" / "qni-219-KH-UBND-2023.txt"
OTHERS = ROOT / "tests" / "fixtures" / "real"
SCAN_BUDGET_PAGES = 31  # issue 24: a 31-page plan read in at most 180 s on 2 cores
MARK = "BENCH "
# The steps whose results a build's report needs (the others are not held: their data would add to the peak)
KEPT_RESULTS = ("check_inputs", "swap", "keep")
# Children share one Prefect home of their own (not the user's); they wait for the temporary
# server as long as the CLI does (KEHOACH_SERVER_START_SECONDS).
# The trivial flow's temporary server (Prefect's own) is waited for as long too: on a loaded machine
# its 20 s default ran out, and the benchmark stopped before its first build.
CHILD_ENV = {**os.environ, "PREFECT_HOME": tempfile.mkdtemp(prefix="kehoach-bench-prefect-"),
             "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": os.environ.get("KEHOACH_SERVER_START_SECONDS", "600")}
# A CPU-bound process, for the builds under load (killed by this script; ends by itself after an hour).
HOG = "import time\nend = time.monotonic() + 3600\nwhile time.monotonic() < end: pass"


# --- in the child process ------------------------------------------------------------


def child_trivial() -> dict:
    """A one-task Prefect flow: the floor every build pays (imports, temporary server)."""
    from prefect import flow, task

    @task
    def one() -> int:
        return 1

    @flow
    def trivial() -> int:
        return one()

    trivial()
    return {}


def child_build(sources: str, out: str) -> dict:
    """``kehoach build SOURCES --out OUT`` as the CLI runs it (``flows.cli.main``), each step timed,
    with the time since this process started at which each step first started."""
    from flows import cli

    argv = ["build", sources, "--out", out]
    # What main() does first, before its heavy imports: start the temporary server. The steps can
    # only be wrapped once flows.pipeline is imported, which main() does next; main() then finds
    # the server already starting (it is started once per process).
    cli.prepare(cli.build_parser().parse_args(argv))
    from flows import pipeline
    from kehoach.build import Steps

    born = psutil.Process().create_time()
    stages: dict[str, float] = defaultdict(float)
    starts: dict[str, float] = {}
    spans: list[tuple[str, float, float]] = []  # (step, start, end) in seconds since the epoch: its peak
    results: dict[str, object] = {}

    def timed(name, fn):
        def step(*args, **kwargs):
            start, began = time.perf_counter(), time.time()
            starts.setdefault(name, began - born)
            try:
                result = fn(*args, **kwargs)
                if name in KEPT_RESULTS:
                    results[name] = result
                return result
            finally:
                stages[name] += time.perf_counter() - start
                spans.append((name, began, time.time()))
        return step

    steps = pipeline.TASKS
    pipeline.TASKS = Steps(**{f.name: timed(f.name, getattr(steps, f.name)) for f in dataclasses.fields(Steps)})
    status = cli.main(argv)
    if status != 0:
        raise SystemExit(status)
    # the build's result: what swap or keep returned, else the inputs were unchanged
    result = results.get("swap") or results.get("keep")
    check = results["check_inputs"]
    return {"stages": dict(stages), "starts": starts, "spans": spans, "changed": "swap" in results,
            "version": result.version if result else check.version,
            "rows": sum(result.counts.values()) if result else 0}


def child_read(path: str, rows_to: str = "") -> dict:
    """Read one plan (its bytes to the lines of its text, by the reader its content calls for), then parse
    it (``rows_to``: its task and budget rows written there as JSON, for the parent to measure; ``-``: read
    only, not parsed)."""
    from kehoach.parse.plan import parse_source
    from kehoach.read.sources import decode_source, read_file

    start = time.perf_counter()
    source = decode_source(read_file(path))
    read = time.perf_counter() - start
    if rows_to == "-":
        return {"read": read, "parse": 0.0, "format": source.format, "lines": len(source.lines),
                "pages": source.pages}
    tables = parse_source(source)
    review = sum(tables[name]["needs_review"].to_pylist().count(True) for name in tables
                 if "needs_review" in tables[name].column_names)
    if rows_to:
        Path(rows_to).write_text(json.dumps(_measured_rows(tables), default=str), encoding="utf-8")
    return {"read": read, "parse": time.perf_counter() - start - read, "format": source.format,
            "lines": len(source.lines), "pages": source.pages, "tasks": tables["tasks"].num_rows,
            "budget_lines": tables["budget_lines"].num_rows, "review": review}


def _measured_rows(tables) -> dict[str, list[dict]]:
    """The rows the scan's acceptance is measured on, as JSON gives them back (values as text)."""
    return json.loads(json.dumps({name: tables[name].to_pylist() for name in ("tasks", "budget_lines", "legal_bases")},
                                 default=str))


def read_formats(kinds: list[str], directory: Path) -> None:
    """The plan of raw/ read as each format it is issued in (seconds, peak RSS of the child)."""
    from kehoach.read.sources import read_source

    source = read_source(PLAN)
    plan = plan_structure(source.lines, str(PLAN))

    def pdf(_: object) -> bytes:
        return text_pdf(source.lines, str(PLAN), "Bản điện tử")[0]

    def scanned(_: object) -> bytes:  # every page of the text PDF, rasterised with skew and noise
        document, writer = text_pdf(source.lines, str(PLAN), "Bản điện tử")
        return scan(document, list(range(1, writer.page + 1)))

    writers = {"text": lambda _: PLAN.read_bytes(), "docx": to_docx, "odt": to_odt, "html": to_html, "pdf": pdf,
               "scanned-pdf": scanned}
    for kind in kinds:
        path = directory / f"plan-{kind}.{ {'text': 'txt', 'scanned-pdf': 'pdf'}.get(kind, kind) }"
        path.write_bytes(writers[kind](plan))
        rows = directory / f"plan-{kind}.rows.json"
        run = run_child("read", str(path), str(rows))
        _print_read(f"read as {kind}", path, run)
        if kind == "scanned-pdf":
            scanned_plan_quality(source, rows, run)


def _print_read(label: str, path: Path, run: Run) -> None:
    info = run.info
    parsed = (f", {info['tasks']} tasks, {info['budget_lines']} budget lines, {info['review']} rows to review"
              if "tasks" in info else ", not parsed")
    print(f"{label:<22} {path.stat().st_size / 1024:6.0f} KB  wall {run.wall:7.2f} s  "
          f"read {info['read']:7.2f} s  parse {info['parse']:6.2f} s  cpu {run.cpu:6.1f} s  "
          f"rss {run.maxrss_mb:5.0f} MB  tree {run.tree_mb:5.0f} MB  ({info['format']}: {info['pages'] or '-'} "
          f"pages, {info['lines']} lines{parsed})", flush=True)


def scanned_plan_quality(source, rows: Path, run: Run) -> None:
    """Issue 24's acceptance on the scan of the whole plan: task rows exact, budget amounts exact or flagged."""
    from kehoach.parse.plan import parse_source

    text = _measured_rows(parse_source(source))
    quality = scan_quality(text, json.loads(rows.read_text(encoding="utf-8")))
    print(f"{'scan of the plan':<22} {run.info['pages']} pages in {run.wall:.1f} s, "
          f"{run.cpu / run.info['pages']:.1f} s of CPU a page, tree {run.tree_mb:.0f} MB: {quality.line()}",
          flush=True)


def scan_of_pages(directory: Path, least: int) -> None:
    """A document of at least ``least`` pages (issue 24's budget: 31 pages in 180 s on 2 cores) scanned and
    read (OCR, not parsed): the plan of raw/, then as many pages as it lacks of the other real plans of the
    family written as text PDFs (tests/fixtures/real/; those the renderer can write)."""
    from kehoach.core.errors import KehoachError
    from kehoach.read.sources import read_source

    source = read_source(PLAN)
    document = pypdfium2.PdfDocument(text_pdf(source.lines, str(PLAN), "Bản điện tử")[0])
    for other in sorted(OTHERS.glob("*.txt")):
        if len(document) >= least:
            break
        text = read_source(other)
        try:
            pdf = pypdfium2.PdfDocument(text_pdf(text.lines, str(other), "Bản điện tử")[0])
        except KehoachError:
            continue  # a plan whose tables the renderer cannot write
        document.import_pages(pdf, list(range(min(len(pdf), least - len(document)))))
    out = io.BytesIO()
    document.save(out)
    pages = len(document)
    document.close()
    path = directory / f"scan-{pages}-pages.pdf"
    path.write_bytes(scan(out.getvalue(), list(range(1, pages + 1))))
    _print_read(f"scan of {pages} pages", path, run_child("read", str(path), "-"))


# --- in the parent ----------------------------------------------------------------------


@dataclasses.dataclass
class Run:
    wall: float
    maxrss_mb: float  # ru_maxrss: the largest single process
    tree_mb: float  # sampled peak of the whole process tree (workers, server)
    info: dict
    cpu: float = 0.0  # user + system seconds of the child and its reaped descendants (steadier than wall
    #                   time on a loaded machine)
    # the sampled peaks during each step (MB): the whole tree's and the flow process's own
    step_peaks_mb: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)


def step_peaks(samples: list[tuple[float, int, int]], spans: list[list]) -> dict[str, tuple[float, float]]:
    """The sampled peaks (MB) of the process tree and of the flow process between each step's start and end
    (a step run twice: the larger). A step's threads still working after it returned (the DuckDB file,
    written beside the validation) count in the steps that follow."""
    peaks: dict[str, tuple[float, float]] = {}
    for name, start, end in spans:
        inside = [(tree, own) for at, tree, own in samples if start <= at <= end]
        if inside:
            tree, own = peaks.get(name, (0.0, 0.0))
            peaks[name] = (max(tree, max(t for t, _ in inside) / 2**20), max(own, max(o for _, o in inside) / 2**20))
    return peaks


def _tree_rss(proc: psutil.Process) -> tuple[int, int]:
    """The RSS of ``proc`` and its descendants together, and of ``proc`` alone."""
    total = own = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            rss = p.memory_info().rss
            total += rss
            own = rss if p is proc else own
    return total, own


def run_child(*args: str, env: dict[str, str] = CHILD_ENV) -> Run:
    """Run this script as a child and measure it (wall time, RSS via wait4 and sampling)."""
    # output to files, not pipes: a child logging more than a pipe holds must not block
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, __file__, "--child", *args],
                                stdout=out, stderr=err, cwd=ROOT, env=env)
        samples: list[tuple[float, int, int]] = []  # (seconds since the epoch, the tree's RSS, the child's)
        done = threading.Event()

        def sample() -> None:
            try:
                ps = psutil.Process(proc.pid)
                while not done.wait(0.1):
                    samples.append((time.time(), *_tree_rss(ps)))
            except psutil.Error:
                pass

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed ({proc.returncode}):\n{stderr.decode()[-3000:]}")
    line = next(x for x in stdout.decode().splitlines()[::-1] if x.startswith(MARK))
    info = json.loads(line[len(MARK):])
    return Run(wall, usage.ru_maxrss / 1024, max((tree for _, tree, _ in samples), default=0) / 2**20, info,
               usage.ru_utime + usage.ru_stime, step_peaks(samples, info.get("spans", [])))


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_mtime_ns, p.stat().st_size) for p in directory.rglob("*") if p.is_file()}


STAGES = ("read_sources", "check_inputs", "parse", "audit", "compare", "stage", "validate", "swap", "keep")


def print_row(label: str, run: Run, trivial: Run) -> None:
    stages = run.info.get("stages", {})
    parts = " ".join(f"{s}={stages[s]:.2f}" for s in STAGES if s in stages)
    starts = run.info.get("starts", {})
    parse = f"  parse from {starts['parse']:.1f} s" if "parse" in starts else ""
    print(f"{label:<22} {run.wall:8.2f} s {run.wall / trivial.wall:6.2f}x  cpu {run.cpu:6.1f} s "
          f"{run.cpu / trivial.cpu:5.2f}x  rss {run.maxrss_mb:6.0f} MB"
          f"  tree {run.tree_mb:6.0f} MB{parse}  {parts}", flush=True)
    if run.step_peaks_mb:
        peaks = " ".join(f"{s}={run.step_peaks_mb[s][0]:.0f}/{run.step_peaks_mb[s][1]:.0f}" for s in STAGES
                         if s in run.step_peaks_mb)
        print(f"{'':<22} peak in each step, process tree/flow process (MB): {peaks}", flush=True)


def refresh_one_changed(src: Path, out: Path, label: str, trivial: Run, unchanged: float,
                        rounds: int = 1) -> tuple[Run, float]:
    """Amend one plan of ``src`` and refresh ``out``: a new version, that plan alone parsed. With ``rounds``
    above one, a different plan each round, each refresh followed by an unchanged one: the machine's speed
    moves from minute to minute (by a third here, a night), so each amended refresh is read against the
    unchanged refresh beside it. The median run and the median of those ratios."""
    plans = sorted(src.glob("*.txt"))
    runs, ratios = [], []
    for i in range(rounds):
        amend(plans[i % len(plans)])
        run = run_child("build", str(src), str(out))
        print_row(label, run, trivial)
        beside = unchanged if rounds == 1 else refresh_unchanged(src, out, f"{label} (then)", trivial, 1)
        print(f"{'':<22} one changed plan: changed={run.info['changed']}, version {run.info['version']}, "
              f"{run.wall / beside:.2f}x the unchanged refresh's wall time", flush=True)
        runs.append(run)
        ratios.append(run.wall / beside)
    if rounds > 1:
        print(f"{label + ' median':<22} {statistics.median(r.wall for r in runs):8.2f} s, "
              f"{statistics.median(ratios):.2f}x (ratios: {', '.join(f'{r:.2f}' for r in ratios)})", flush=True)
    return sorted(runs, key=lambda r: r.wall)[len(runs) // 2], statistics.median(ratios)


def print_summary(builds: dict[int, Run], refreshed: int, unchanged: float, changed: Run, ratio: float,
                  load: float) -> None:
    """The figures the corpus targets are read against (issue 26): seconds a plan and the whole
    process tree's peak at each size; one changed plan against an unchanged refresh (``ratio``: the
    median of the rounds' ratios)."""
    print(f"summary ({os.cpu_count()} CPU(s), 1-minute load average {load:.1f} at the start):", flush=True)
    for n, run in builds.items():
        print(f"  {n:>6} plan(s): {run.wall:8.1f} s, {run.wall / n:6.3f} s a plan, peak {run.tree_mb:6.0f} MB "
              f"(process tree)", flush=True)
    print(f"  {refreshed:>6} plan(s), one changed: {changed.wall:.1f} s against {unchanged:.1f} s unchanged: "
          f"{ratio:.2f}x (target 1.5x), peak {changed.tree_mb:.0f} MB", flush=True)


def refresh_unchanged(src: Path, out: Path, label: str, trivial: Run, times: int) -> float:
    """Refresh ``out`` from ``src`` unchanged ``times`` times: each must write nothing."""
    runs = []
    for _ in range(times):
        before = snapshot(out)
        run = run_child("build", str(src), str(out))
        after = snapshot(out)
        writes = sum(1 for k, v in after.items() if before.get(k) != v) + len(set(before) - set(after))
        print_row(label, run, trivial)
        print(f"{'':<22} unchanged refresh: changed={run.info['changed']}, {writes} file(s) written", flush=True)
        runs.append(run)
    wall, cpu = statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs)
    if times > 1:
        print(f"{label + ' median':<22} {wall:8.2f} s {wall / trivial.wall:6.2f}x  cpu {cpu:6.1f} s "
              f"{cpu / trivial.cpu:5.2f}x  (runs: {', '.join(f'{r.wall:.1f}' for r in runs)} s)", flush=True)
    return wall


def series_quality(tmp: Path) -> None:
    """Precision and recall of the task lineage on the generated series, and the time to link it."""
    from kehoach.core.model import concat
    from kehoach.parse.plan import parse_source
    from kehoach.parse.series import link_series
    from kehoach.read.sources import read_source

    made = series(PLAN.read_text(encoding="utf-8"))
    parts = []
    for i, (text, _) in enumerate(made):
        path = tmp / f"series-{i}.txt"
        path.write_text(text, encoding="utf-8")
        parts.append(parse_source(read_source(path)))
    tables = concat(parts)
    start = time.perf_counter()
    linked = link_series(tables)
    took = time.perf_counter() - start
    lineage = linked["task_lineage"].to_pylist()
    plans = linked["plans"].column("plan_id").to_pylist()
    for plan_id, (_, truth) in zip(plans[1:], made[1:], strict=True):
        rows = [r for r in lineage if r["plan_id"] == plan_id]
        precision, recall = precision_recall(rows, truth)
        print(f"{'lineage ' + plan_id:<44} precision {precision:.3f}  recall {recall:.3f}  "
              f"({len(truth.continued)} continued, {len(truth.reworded)} reworded, {len(truth.new)} new, "
              f"{len(truth.dropped)} dropped)", flush=True)
    print(f"{'link_series, ' + str(len(plans)) + ' plans':<44} {took * 1000:.1f} ms", flush=True)


@contextlib.contextmanager
def cpu_load() -> Iterator[int]:
    """One more CPU-bound process than there are cores, while inside: their number."""
    hogs = []
    try:
        for _ in range((os.cpu_count() or 1) + 1):
            hogs.append(subprocess.Popen([sys.executable, "-c", HOG]))
        yield len(hogs)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def under_load(tmp: Path, sizes: list[int], trivial: Run) -> None:
    """A build of each size, each with a new Prefect home, under ``cpu_load``."""
    with cpu_load() as hogs:
        print(f"under load: {hogs} CPU-bound processes on {os.cpu_count()} CPU(s), a new PREFECT_HOME each "
              f"(1-minute load average {os.getloadavg()[0]:.1f} before)", flush=True)
        for n in sizes:
            src, out = tmp / f"load-corpus-{n}", tmp / f"load-out-{n}"
            write_corpus(PLAN, src, n)
            home = tempfile.mkdtemp(prefix="kehoach-bench-prefect-", dir=tmp)
            print_row(f"{n} plan(s) under load", run_child("build", str(src), str(out),
                                                           env={**CHILD_ENV, "PREFECT_HOME": home}), trivial)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,10,100,1000", help="corpus sizes, comma-separated")
    parser.add_argument("--workdir", type=Path, help="keep corpora and packages here (reused when present)")
    parser.add_argument("--refresh-only", action="store_true",
                        help="skip the builds: refresh the largest package already in --workdir")
    parser.add_argument("--refreshes", type=int, default=1, help="unchanged refreshes to run (median printed)")
    parser.add_argument("--amended", type=int, default=1,
                        help="refreshes with one plan amended (above 1: each beside an unchanged one, median ratio)")
    parser.add_argument("--series-only", action="store_true", help="only the task lineage's precision and recall")
    parser.add_argument("--formats-only", action="store_true",
                        help="only the plan read as --formats (and a scan of 31 pages when scanned-pdf is one)")
    parser.add_argument("--formats", default="text,docx,odt,html,pdf,scanned-pdf",
                        help="read the plan of raw/ as these formats first ('' to skip)")
    parser.add_argument("--load-sizes", default="1,200",
                        help="corpus sizes built under CPU load, a new Prefect home each (empty: none)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, rest = args.child[0], args.child[1:]
        info = child_trivial() if kind == "trivial" else child_read(*rest) if kind == "read" else child_build(*rest)
        print(MARK + json.dumps(info), flush=True)
        return
    if args.refresh_only and not args.workdir:
        parser.error("--refresh-only needs --workdir (where the built packages are)")

    sizes = [int(s) for s in args.sizes.split(",")]
    load, builds = os.getloadavg()[0], {}
    print(f"kehoach benchmark: corpora from {PLAN.name}, {os.cpu_count()} CPU(s)", flush=True)
    with contextlib.ExitStack() as stack:
        if args.workdir:
            tmp = args.workdir
            tmp.mkdir(parents=True, exist_ok=True)
        else:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kehoach-bench-")))
        if not args.formats_only:
            series_quality(tmp)
        if args.series_only:
            return
        if args.formats:
            read_formats(args.formats.split(","), tmp)
            if "scanned-pdf" in args.formats.split(","):
                scan_of_pages(tmp, SCAN_BUDGET_PAGES)
        if args.formats_only:
            return
        # a shared machine is noisy: the floor is the fastest of three trivial runs (wall and CPU time)
        trivials = [run_child("trivial") for _ in range(3)]
        trivial = dataclasses.replace(min(trivials, key=lambda r: r.wall), cpu=min(r.cpu for r in trivials))
        print(f"{'trivial Prefect flow':<22} {trivial.wall:8.2f} s  1.00x  cpu {trivial.cpu:6.1f} s  1.00x"
              f"  rss {trivial.maxrss_mb:6.0f} MB"
              f"  tree {trivial.tree_mb:6.0f} MB  (runs: {', '.join(f'{r.wall:.1f}' for r in trivials)} s)",
              flush=True)
        for n in sizes:
            src, out = tmp / f"corpus-{n}", tmp / f"out-{n}"
            if args.refresh_only:
                if not (out / "datapackage.json").exists():
                    raise SystemExit(f"no package in {out}: build it first (without --refresh-only)")
                continue
            write_corpus(PLAN, src, n)
            run = run_child("build", str(src), str(out))
            print_row(f"{n} plan(s)", run, trivial)
            builds[n] = run
            print(f"{'':<22} {run.wall / n:.3f} s a plan", flush=True)
        n = sizes[-1]
        src, out = tmp / f"corpus-{n}", tmp / f"out-{n}"
        unchanged = refresh_unchanged(src, out, f"{n} unchanged", trivial, args.refreshes)
        changed, ratio = refresh_one_changed(src, out, f"{n} one changed", trivial, unchanged, args.amended)
        print_summary(builds, n, unchanged, changed, ratio, load)
        if args.load_sizes:
            under_load(tmp, [int(s) for s in args.load_sizes.split(",")], trivial)


if __name__ == "__main__":
    main()
