#!/usr/bin/env python3
"""Reliability figures: run many seeded hostile variants of the plan through
read, parse and audit, and count the outcomes (a package, a located error, or a
broken invariant: crash, unlocated error, line outside the file, hang).

    .venv/bin/python scripts/fuzz.py [--seed S] [--count N] [--timeout SECONDS] [--plan FILE]
                                     [--document docx|odt|pdf|html]

With --document, the plan is written as that kind of document and its bytes are
damaged instead (tests/document_mutator.py: truncated, bits flipped, syntax
spliced in, ZIP entries damaged, shuffled, dropped or edited); a PDF page left
without text is read by OCR, as a build would (seconds a page).

The CI suite (tests/parse/test_fuzz.py, tests/read/test_hostile_documents.py)
runs a small slice of the same mutators; this script is for the larger run
whose figures go into the closing note.
"""

from __future__ import annotations

import argparse
import collections
import logging
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from document_mutator import KINDS, document_outcome, document_variants, issued_as  # noqa: E402
from mutator import Outcome, outcome, variants  # noqa: E402

from kehoach.audit.runner import run_audit  # noqa: E402
from kehoach.core.errors import KehoachError  # noqa: E402
from kehoach.parse.corpus import parse_sources  # noqa: E402
from kehoach.read.sources import read_source  # noqa: E402

PLAN = ROOT / "raw" / "qni-219-KH-UBND-2023.txt"


class Hang(Exception):
    """The per-input time limit passed."""


def _alarm(signum, frame):
    raise Hang


def run_one(text: str | bytes, path: Path, timeout: float) -> tuple[Outcome, float]:
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    start = time.perf_counter()
    try:
        result = document_outcome(text, path) if isinstance(text, bytes) else outcome(text, path)
    except Hang:
        result = Outcome("hang", f"over {timeout:g} s")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return result, time.perf_counter() - start


def trace(text: str, args: argparse.Namespace) -> int:
    """Reproduce one variant, with the traceback of whatever it raises."""
    args.count = args.trace + 1
    variant = list(_variants(text, args))[args.trace]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"plan.{args.document or 'txt'}"
        if args.document is None:
            path.write_text(variant.text, encoding="utf-8")
            print(f"{args.seed}:{args.trace} {'+'.join(variant.mutations)}")
        else:
            path.write_bytes(variant.data)
            print(f"{args.seed}:{args.trace} {variant.mutation}")
        try:
            run_audit(parse_sources([read_source(path)]))
        except KehoachError as exc:
            print(f"KehoachError: {exc}")
            traceback.print_exc()
            return 2
    print("a package")
    return 0


def _variants(text: str, args: argparse.Namespace):
    if args.document is None:
        return variants(text, args.seed, args.count)
    return document_variants(issued_as(args.document, tuple(text.split("\n")), str(args.plan)), args.document,
                             args.seed, args.count)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--plan", type=Path, default=PLAN)
    parser.add_argument("--document", choices=KINDS, help="damage the plan written as this kind of document")
    parser.add_argument("--show", type=int, default=40, help="failures listed")
    parser.add_argument("--trace", metavar="INDEX", type=int, help="rerun one variant of --seed with its traceback")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # warnings about hostile input are expected

    text = args.plan.read_text(encoding="utf-8")
    if args.trace is not None:
        return trace(text, args)
    kinds: collections.Counter[str] = collections.Counter()
    failures: dict[str, list[str]] = collections.defaultdict(list)
    slowest = (0.0, "")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"plan.{args.document or 'txt'}"
        for variant in _variants(text, args):
            result, seconds = run_one(variant.text if args.document is None else variant.data, path, args.timeout)
            kinds[result.kind] += 1
            label = (f"{variant.seed}:{variant.index} {'+'.join(variant.mutations)}" if args.document is None else
                     f"{variant.seed}:{variant.index} {variant.mutation}")
            if seconds > slowest[0]:
                slowest = (seconds, label)
            if not result.ok:
                failures[f"{result.kind}: {result.detail[:160]}"].append(label)
    print(f"seed {args.seed}: {args.count} inputs tried")
    for kind, n in kinds.most_common():
        print(f"  {kind:<10} {n}")
    print(f"  slowest input {slowest[0]:.2f} s ({slowest[1]})")
    if failures:
        print(f"{len(failures)} distinct broken invariants:")
        for message, labels in sorted(failures.items(), key=lambda kv: -len(kv[1]))[:args.show]:
            print(f"  {len(labels):4d} × {message}  [{', '.join(labels[:3])}]")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
