"""The CLI's commands (``flows.cli`` parses the arguments and imports this
module once Prefect's temporary server is launched: see there).

``build`` and ``refresh`` check their inputs before a flow runs (every source
reads, the target is configured; a changed text is decoded by the flow) and, while
they do, start what the flow will need: Prefect's temporary server is
already coming up (``flows.launch``), and a corpus the parse will fan out is
given its local Dask cluster at once (``flows.runners.cluster_ahead``), so
that its workers are up and have imported the parser when the parse starts.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from flows import runners, server
from flows.deploy import announce, require_api, serve
from flows.pipeline import build_package, publish_package, refresh_package
from flows.server import prefect_api
from kehoach import build
from kehoach.core.errors import EXIT_INPUT
from kehoach.core.model import field_names
from kehoach.core.paths import DEFAULT_OUT, RAW_DIR
from kehoach.package.validate import validate_package
from kehoach.parse.inspection import inspect_files, summary
from kehoach.publish.snapshot import check_package
from kehoach.publish.targets import check_target, local_address_warning, stale_settings_warning
from kehoach.read import source_urls
from kehoach.read.sources import discover
from kehoach.versions import diff


def run(args: argparse.Namespace) -> int:
    """Run the command the arguments name; its exit status."""
    commands = {"build": _build, "publish": _publish, "refresh": _refresh, "diff": _diff, "serve": _serve,
                "announce": _announce, "inspect": _inspect, "validate": _validate}
    return commands[args.command](args)


@contextlib.contextmanager
def _checked(sources: list[str], out: str | None, urls: dict[str, str], target: str | None = None,
             publishing: bool = True, **names) -> Iterator[dict[str, str]]:
    """The checks before a build's flow (every source reads, each address given goes to one of
    them, the target is configured); yields the addresses by the path of their text, for the
    flow's parameters. A changed corpus with enough texts to parse to fan out gets its local
    cluster started at once, for the flow run inside (closed on leaving). A
    changed text is decoded (and a bad one refused, on its line) where the
    flow parses it: decoding it here too cost a corpus seconds before its parse."""
    attached = _attached(sources or [RAW_DIR], urls)
    files = build.read_sources(sources or [RAW_DIR], attached)
    out_path = Path(out) if out else DEFAULT_OUT
    with contextlib.ExitStack() as stack:
        if not build.check_inputs(files, out_path).unchanged:
            # sized by the texts to parse (one amended plan in a corpus is parsed in the flow); on a
            # loaded machine, started once the temporary server answers (if there is one to wait for)
            after = server.answered if runners.loaded() and server.starting() else None
            stack.enter_context(runners.cluster_ahead(len(build.unparsed(files, out_path)), server.api_url(), after))
        if publishing:
            check_target(target, **names)
        yield attached


def _attached(sources: list[str], urls: dict[str, str]) -> dict[str, str]:
    """The addresses given (``--source-url``) by the path of the text each goes to, for the flow's parameters."""
    return source_urls.attach(urls, [str(p) for p in discover(sources)]) if urls else {}


def _preflight(sources: list[str], out: str | None, urls: dict[str, str], target: str | None = None,
               publishing: bool = True, **names) -> None:
    """Cheap checks before Prefect starts its server: every source reads (and
    decodes, if it changed since the package in ``out``), each address given goes to one of
    them, the target is configured."""
    build.preflight(sources or [RAW_DIR], Path(out) if out else DEFAULT_OUT, urls)
    if publishing:
        check_target(target, **names)


def _build(args: argparse.Namespace) -> int:
    with _checked(args.sources, args.out, args.source_urls, publishing=args.publish) as urls, prefect_api():
        result = build_package(sources=args.sources or None, out=args.out, strict=args.strict,
                               source_urls=urls or None, **({"publish_to": ""} if args.publish else {}))
    _print_result(result)
    return 0


def _refresh(args: argparse.Namespace) -> int:
    with _checked(args.sources, args.out, args.source_urls, args.target, org=args.org,
                  dataset=args.dataset) as urls, prefect_api():
        # once: the user sees the error now (the served refresh is retried: flows.pipeline)
        result = refresh_package.with_options(retries=0)(sources=args.sources or None, out=args.out,
                                                         target=args.target, org=args.org, dataset=args.dataset,
                                                         source_urls=urls or None)
    _print_result(result)
    return 0


def _print_result(result) -> None:
    print(f"{result.out}: version {result.version}" + ("" if result.changed else " (unchanged, nothing written)"))
    for note in result.notes:
        print(note)
    _warn_local_address()


def _warn_local_address() -> None:
    warning = local_address_warning()
    if warning:
        print(warning, file=sys.stderr)


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
    urls = _attached(sources, args.source_urls)  # by absolute path, as the sources
    _preflight(sources, args.out, urls, args.target, org=args.org, dataset=args.dataset)
    target = args.target
    if target and target.lower() != "ckan":
        target = str(Path(target).resolve())  # the served process may run elsewhere
    serve(sources, str(Path(args.out or DEFAULT_OUT).resolve()), target, cron=args.cron, timezone=args.timezone,
          name=args.name, org=args.org, dataset=args.dataset, source_urls=urls or None)
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


def _validate(args: argparse.Namespace) -> int:
    """Every file against its hash, then every table against its Table Schema (a plan package too:
    its build checked only the tables made for it)."""
    out = Path(args.out) if args.out else DEFAULT_OUT
    check_package(out)
    checked = validate_package(out)
    print(f"{out}: valid ({checked.resources} tables, {checked.rows} rows)")
    return 0


def _publish(args: argparse.Namespace) -> int:
    options = {"org": args.org, "dataset": args.dataset, "ckan_url": args.ckan_url, "token_block": args.token_block}
    out = Path(args.out) if args.out else DEFAULT_OUT
    # Cheap checks before Prefect starts: the package matches its hashes, the target is configured.
    check_package(out)
    check_target(args.target, **options, out=out)
    stale = stale_settings_warning(out)
    if stale:
        print(stale, file=sys.stderr)
    with prefect_api():
        report = publish_package(out=str(out), target=args.target, dry_run=args.dry_run,
                                 retry_deadline=args.retry_for, **options)
    print(report.summary())
    _warn_local_address()
    return 0
