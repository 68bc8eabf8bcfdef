#!/usr/bin/env python3
"""Reliability figures: run many seeded hostile variants of the plan through
read, parse and audit, and count the outcomes (a package, a located error, or a
broken invariant: crash, unlocated error, line outside the file, hang).

    .venv/bin/python scripts/fuzz.py [--seed S] [--count N] [--timeout SECONDS] [--plan FILE]

The CI suite (tests/parse/test_fuzz.py) runs a small slice of the same mutator;
this script is for the larger run whose figures go into the closing note.
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


def run_one(text: str, path: Path, timeout: float) -> tuple[Outcome, float]:
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    start = time.perf_counter()
    try:
        result = outcome(text, path)
    except Hang:
        result = Outcome("hang", f"over {timeout:g} s")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return result, time.perf_counter() - start


def trace(text: str, seed: int, index: int) -> int:
    """Reproduce one variant, with the traceback of whatever it raises."""
    variant = list(variants(text, seed, index + 1))[index]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.txt"
        path.write_text(variant.text, encoding="utf-8")
        print(f"{seed}:{index} {'+'.join(variant.mutations)}")
        try:
            run_audit(parse_sources([read_source(path)]))
        except KehoachError as exc:
            print(f"KehoachError: {exc}")
            traceback.print_exc()
            return 2
    print("a package")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--plan", type=Path, default=PLAN)
    parser.add_argument("--show", type=int, default=40, help="failures listed")
    parser.add_argument("--trace", metavar="INDEX", type=int, help="rerun one variant of --seed with its traceback")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # warnings about hostile input are expected

    text = args.plan.read_text(encoding="utf-8")
    if args.trace is not None:
        return trace(text, args.seed, args.trace)
    kinds: collections.Counter[str] = collections.Counter()
    failures: dict[str, list[str]] = collections.defaultdict(list)
    slowest = (0.0, "")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.txt"
        for variant in variants(text, args.seed, args.count):
            result, seconds = run_one(variant.text, path, args.timeout)
            kinds[result.kind] += 1
            label = f"{variant.seed}:{variant.index} {'+'.join(variant.mutations)}"
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
