"""The ``kehoach`` command line.

Errors a user can fix are printed as one line, ``FILE:LINE: what is wrong``,
on stderr, with a non-zero exit status and no traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from . import __version__
from .errors import KehoachError

EXIT_INPUT = 2
EXIT_INTERNAL = 3


def _quiet_prefect() -> None:
    """Keep Prefect's own console output to the run's progress lines.

    Expected failures are reported by the CLI itself, so Prefect's tracebacks
    for them are dropped (they stay available with KEHOACH_DEBUG=1).
    """
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_SETTINGS_PATH", str(Path(__file__).with_name("logging.yml")))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kehoach", description="Turn Vietnamese plan documents into validated open-data packages."
    )
    parser.add_argument("--version", action="version", version=f"kehoach {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="parse plan texts, validate and write the data package")
    b.add_argument("sources", nargs="*", metavar="SOURCE", help="plan text files or directories (default: raw/)")
    b.add_argument("--out", metavar="DIR", help="output directory (default: output/)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _quiet_prefect()
    debug = os.environ.get("KEHOACH_DEBUG") == "1"
    try:
        if args.command == "build":
            # Cheap checks first: a missing or mis-encoded file fails at once,
            # before Prefect starts its server.
            from .build import read_sources
            from .paths import RAW_DIR

            read_sources(args.sources or [RAW_DIR])
            from .pipeline import build_package

            result = build_package(sources=args.sources or None, out=args.out)
            print(f"{result.out}: version {result.version}" + ("" if result.changed else " (unchanged)"))
            return 0
    except KehoachError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line unless debugging
        if debug:
            raise
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        print(f"internal error: {type(exc).__name__}: {exc} (run with KEHOACH_DEBUG=1 for details)", file=sys.stderr)
        return EXIT_INTERNAL
    return 0


if __name__ == "__main__":
    sys.exit(main())
