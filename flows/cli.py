"""The ``kehoach`` command line.

Errors a user can fix are printed as one line, ``FILE:LINE: what is wrong``,
on stderr, with a non-zero exit status and no traceback.

This module is light on purpose: it imports the standard library and small
modules only, parses the arguments, launches Prefect's temporary server when
the command will run a flow (``flows.launch``), and only then imports the
commands (``flows.commands``: Prefect, the flows, the library, seconds of
imports), so that the server comes up meanwhile. That one import is done by
name inside ``main`` (``importlib.import_module``), the one deferred import of
the code, for start-up time; ``tests/flows/test_cli_startup.py`` checks that
importing this module imports no Prefect.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
from pathlib import Path

from flows import launch
from flows.schedule import DEFAULT_CRON, DEFAULT_TIMEZONE, DEPLOYMENT_NAME
from kehoach import __version__
from kehoach.core.errors import EXIT_INPUT, EXIT_INTERNAL, KehoachError, filesystem_error, memory_error
from kehoach.core.paths import DEFAULT_OUT
from kehoach.package.layout import read_descriptor_bytes
from kehoach.read import source_urls

# The commands that run a flow, and so need a Prefect API.
FLOW_COMMANDS = ("build", "refresh", "publish")
PREFECT_LEVEL = "PREFECT_LOGGING_LEVEL"


def _exit_on_signal(signum: int, frame) -> None:
    """SIGTERM/SIGHUP end the CLI like Ctrl-C does: cleanups run (the staging
    directory is removed, and the temporary Prefect server is stopped at exit;
    a SIGKILL ends that server too: see ``flows.server``)."""
    raise SystemExit(128 + signum)


def _handle_termination() -> None:
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _exit_on_signal)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kehoach", description="Turn Vietnamese plan documents into validated open-data packages."
    )
    parser.add_argument("--version", action="version", version=f"kehoach {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="parse plan texts, validate and write the data package")
    _add_source_arguments(b)
    b.add_argument("--strict", action="store_true",
                   help="fail (exit status 2, previous package kept) when the audit finds an 'error'")
    b.add_argument("--publish", action="store_true",
                   help="then publish it to the default target (portal/, or $KEHOACH_PUBLISH_TARGET)")
    _add_publish_parser(sub)
    _add_refresh_parsers(sub)
    v = sub.add_parser("validate", help="check a built package: every file against its hash, every table "
                                        "against its Table Schema (nothing is written)")
    v.add_argument("out", nargs="?", metavar="DIR", help="the package (default: output/)")
    i = sub.add_parser("inspect", help="what the reader recognises in plan texts (nothing is built)")
    i.add_argument("files", nargs="+", metavar="FILE", help="plan text(s)")
    i.add_argument("--json", action="store_true", help="a JSON list, one object per file")
    for command in sub.choices.values():
        command.add_argument("--verbose", action="store_true",
                             help="also show Prefect's progress lines (flow and task runs); by default only "
                                  "kehoach's own lines, warnings and errors")
    return parser


def _add_refresh_parsers(sub) -> None:
    r = sub.add_parser("refresh", help="rebuild if a source changed (new version + changelog), then publish it")
    _add_job_arguments(r)
    d = sub.add_parser("diff", help="changelog between two packages, table by table on primary keys")
    d.add_argument("old", metavar="OLD", help="package directory or its datapackage.json (e.g. output/versions/1.0.0)")
    d.add_argument("new", metavar="NEW", help="package directory or its datapackage.json (e.g. output)")
    d.add_argument("--format", choices=("text", "csv", "json"), default="text",
                   help="text: summary and one line per change (default); csv/json: the change rows")
    d.add_argument("--document-only", action="store_true",
                   help="leave out derived tables (audit findings, the changelog itself)")
    s = sub.add_parser("serve", help="serve the scheduled refresh as a Prefect deployment (needs PREFECT_API_URL)")
    _add_job_arguments(s)
    s.add_argument("--cron", default=DEFAULT_CRON, help=f"schedule (default {DEFAULT_CRON!r})")
    s.add_argument("--timezone", default=DEFAULT_TIMEZONE, help=f"of the schedule (default {DEFAULT_TIMEZONE})")
    s.add_argument("--name", default=DEPLOYMENT_NAME, help=f"deployment name (default {DEPLOYMENT_NAME})")
    a = sub.add_parser("announce", help="tell the served deployment that plan texts were amended (a Prefect event)")
    a.add_argument("files", nargs="+", metavar="FILE", help="the amended plan text(s)")


def _add_source_arguments(p) -> None:
    p.add_argument("sources", nargs="*", metavar="SOURCE", help="plan text files or directories (default: raw/)")
    p.add_argument("--out", metavar="DIR", help="output directory (default: output/)")
    p.add_argument(source_urls.OPTION, action="append", metavar="URL|FILE=URL",
                   help="the page a text was published on (http/https), shown as its official source; it "
                        "overrides the url of the text's origin record. URL alone when one text is built; "
                        "FILE=URL (FILE: its path or file name), repeated, for several")


def _add_dataset_arguments(p) -> None:
    p.add_argument("--org", metavar="NAME", help="CKAN organisation (default: $CKAN_ORGANIZATION, else kehoach)")
    p.add_argument("--dataset", metavar="NAME", help="dataset name (default: the package name)")


def _add_job_arguments(p) -> None:
    _add_source_arguments(p)
    p.add_argument("--target", metavar="ckan|DIR",
                   help="where to publish (default: $KEHOACH_PUBLISH_TARGET, else portal/)")
    _add_dataset_arguments(p)


def _add_publish_parser(sub) -> None:
    p = sub.add_parser("publish", help="check the package again and publish it (portal folder or CKAN)")
    p.add_argument("--out", metavar="DIR", help="the package to publish (default: output/)")
    p.add_argument("--target", metavar="ckan|DIR",
                   help="'ckan' (CKAN_URL, CKAN_API_TOKEN[_FILE]) or a portal folder "
                        "(default: $KEHOACH_PUBLISH_TARGET, else portal/)")
    _add_dataset_arguments(p)
    p.add_argument("--ckan-url", metavar="URL", help="CKAN address (default: $CKAN_URL)")
    p.add_argument("--token-block", metavar="NAME", help="read the CKAN API token from this Prefect Secret block")
    p.add_argument("--retry-for", metavar="SECONDS", type=float,
                   help="keep retrying an unreachable CKAN this long (default: 120)")
    p.add_argument("--dry-run", action="store_true", help="say what would change; write nothing")


def set_verbosity(args: argparse.Namespace) -> None:
    """Quiet by default: Prefect's INFO lines (a flow run created, 'View at' a temporary server that is
    gone when the command ends, each task finished) only with ``--verbose``; a level set in the
    environment is kept. Set before Prefect is imported, which reads it then."""
    if args.verbose:
        os.environ[PREFECT_LEVEL] = "INFO"
    else:
        os.environ.setdefault(PREFECT_LEVEL, "WARNING")


def prepare(args: argparse.Namespace) -> None:
    """What the command needs settled or started before the heavy imports: its verbosity,
    Prefect's home (one its user can write), then its temporary server, when it will run a
    flow with no API configured."""
    set_verbosity(args)
    launch.settle_home()
    if args.command in FLOW_COMMANDS:
        launch.launch()


def _output(args: argparse.Namespace) -> Path | None:
    """The directory a build or refresh writes (where a failed write that names no file was)."""
    return Path(args.out or DEFAULT_OUT) if args.command in ("build", "refresh") else None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _handle_termination()
    debug = os.environ.get("KEHOACH_DEBUG") == "1"
    try:
        # checked before Prefect starts: a malformed address is one line, exit 2
        args.source_urls = source_urls.parse(getattr(args, "source_url", None))
        if args.command == "publish":  # no package to publish: one line, before a server is launched
            read_descriptor_bytes(Path(args.out) if args.out else DEFAULT_OUT)
        prepare(args)
        return importlib.import_module("flows.commands").run(args)
    except KehoachError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `kehoach diff … | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug: say so in one line unless debugging
        error = filesystem_error(exc, _output(args)) or memory_error(exc, _output(args))
        if error is not None and not debug:
            print(str(error), file=sys.stderr)
            return EXIT_INPUT
        if debug:
            raise
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        print(f"internal error: {type(exc).__name__}: {exc} (run with KEHOACH_DEBUG=1 for details)", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        launch.stop()  # a server launched but never used (the command failed before its flow)


if __name__ == "__main__":
    sys.exit(main())
