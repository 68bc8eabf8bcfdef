"""The ``kehoach`` command line.

Errors a user can fix are printed as one line, ``FILE:LINE: what is wrong``,
on stderr, with a non-zero exit status and no traceback.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import signal
import sys
from pathlib import Path

from flows.deploy import DEFAULT_CRON, DEFAULT_TIMEZONE, DEPLOYMENT_NAME, announce, require_api, serve
from flows.pipeline import build_package, publish_package, refresh_package
from flows.server import prefect_api
from kehoach import __version__
from kehoach.build import preflight
from kehoach.core.errors import KehoachError, filesystem_error
from kehoach.core.model import field_names
from kehoach.core.paths import DEFAULT_OUT, RAW_DIR
from kehoach.parse.inspection import inspect_files, summary
from kehoach.publish.snapshot import check_package
from kehoach.publish.targets import check_target
from kehoach.versions import diff

EXIT_INPUT = 2
EXIT_INTERNAL = 3


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
    i = sub.add_parser("inspect", help="what the reader recognises in plan texts (nothing is built)")
    i.add_argument("files", nargs="+", metavar="FILE", help="plan text(s)")
    i.add_argument("--json", action="store_true", help="a JSON list, one object per file")
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


def _add_dataset_arguments(p) -> None:
    p.add_argument("--org", metavar="NAME", help="CKAN organisation (default: $CKAN_ORGANIZATION, else kehoach)")
    p.add_argument("--dataset", metavar="NAME", help="dataset name (default: the package name)")


def _add_job_arguments(p) -> None:
    _add_source_arguments(p)
    p.add_argument("--target", metavar="ckan|DIR",
                   help="where to publish (default: $KEHOACH_PUBLISH_TARGET, else portal/)")
    _add_dataset_arguments(p)


def _preflight(sources: list[str], out: str | None, target: str | None = None, publishing: bool = True,
               **names) -> None:
    """Cheap checks before Prefect starts its server: every source reads (and
    decodes, if it changed since the package in ``out``), the target is configured."""
    preflight(sources or [RAW_DIR], Path(out) if out else DEFAULT_OUT)
    if publishing:
        check_target(target, **names)


def _build(args: argparse.Namespace) -> int:
    _preflight(args.sources, args.out, publishing=args.publish)
    with prefect_api():
        result = build_package(sources=args.sources or None, out=args.out, strict=args.strict,
                               **({"publish_to": ""} if args.publish else {}))
    _print_result(result)
    return 0


def _refresh(args: argparse.Namespace) -> int:
    _preflight(args.sources, args.out, args.target, org=args.org, dataset=args.dataset)
    with prefect_api():
        result = refresh_package(sources=args.sources or None, out=args.out, target=args.target,
                                 org=args.org, dataset=args.dataset)
    _print_result(result)
    return 0


def _print_result(result) -> None:
    print(f"{result.out}: version {result.version}" + ("" if result.changed else " (unchanged, nothing written)"))
    for note in result.notes:
        print(note)


def _diff(args: argparse.Namespace) -> int:
    old, new = diff.load_package(args.old), diff.load_package(args.new)
    changes = diff.diff_tables(old.tables, new.tables, {**old.schemas, **new.schemas}, old.derived | new.derived)
    if args.document_only:
        changes = [c for c in changes if not c["derived"]]
    if args.format == "json":
        print(json.dumps(changes, ensure_ascii=False, indent=1))
    elif args.format == "csv":
        # the columns of the `changes` resource, less those naming the versions
        fields = [f for f in field_names(diff.CHANGES) if f not in ("version", "change_no", "previous_version")]
        writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(changes)
    else:
        versions = (new.version or None, old.version or None)
        print(diff.summary(changes, *versions, language="en"))
        print(diff.summary(changes, *versions, language="vi"))
        for line in diff.details(changes):
            print(f"  {line}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    require_api()
    sources = [str(Path(p).resolve()) for p in (args.sources or [RAW_DIR])]
    _preflight(sources, args.out, args.target, org=args.org, dataset=args.dataset)
    target = args.target
    if target and target.lower() != "ckan":
        target = str(Path(target).resolve())  # the served process may run elsewhere
    serve(sources, str(Path(args.out or DEFAULT_OUT).resolve()), target, cron=args.cron, timezone=args.timezone,
          name=args.name, org=args.org, dataset=args.dataset)
    return 0


def _announce(args: argparse.Namespace) -> int:
    for path, event_id in zip(args.files, announce(args.files), strict=True):
        print(f"{path}: announced as amended (event {event_id})")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    """Exit 0 when every file was identified, else 2 with one 'FILE:LINE: …' line per unidentified file."""
    reports = inspect_files(args.files)
    if args.json:
        print(json.dumps([r.as_dict() for r in reports], ensure_ascii=False, indent=1))
    else:
        for report in reports:
            print("\n".join(summary(report)))
    failed = [r for r in reports if not r.identified]
    for report in failed:
        line, message = report.problems[0] if report.problems else (1, "not identified")
        print(f"{report.file}:{line}: {message}", file=sys.stderr)
    return EXIT_INPUT if failed else 0


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


def _publish(args: argparse.Namespace) -> int:
    options = {"org": args.org, "dataset": args.dataset, "ckan_url": args.ckan_url, "token_block": args.token_block}
    out = Path(args.out) if args.out else DEFAULT_OUT
    # Cheap checks before Prefect starts: the package matches its hashes, the target is configured.
    check_package(out)
    check_target(args.target, **options)
    with prefect_api():
        report = publish_package(out=str(out), target=args.target, dry_run=args.dry_run,
                                 retry_deadline=args.retry_for, **options)
    print(report.summary())
    return 0


def _output(args: argparse.Namespace) -> Path | None:
    """The directory a build or refresh writes (where a failed write that names no file was)."""
    return Path(args.out or DEFAULT_OUT) if args.command in ("build", "refresh") else None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _handle_termination()
    debug = os.environ.get("KEHOACH_DEBUG") == "1"
    try:
        commands = {"build": _build, "publish": _publish, "refresh": _refresh, "diff": _diff, "serve": _serve,
                    "announce": _announce, "inspect": _inspect}
        return commands[args.command](args)
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
        error = filesystem_error(exc, _output(args))
        if error is not None and not debug:
            print(str(error), file=sys.stderr)
            return EXIT_INPUT
        if debug:
            raise
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        print(f"internal error: {type(exc).__name__}: {exc} (run with KEHOACH_DEBUG=1 for details)", file=sys.stderr)
        return EXIT_INTERNAL
    return 0


if __name__ == "__main__":
    sys.exit(main())
