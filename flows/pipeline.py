"""Prefect flows: the orchestration of the build stages.

``build_package`` runs read -> check inputs -> parse -> audit -> compare ->
stage -> validate -> swap (-> publish), each as a Prefect task that logs one
line with counts; ``refresh_package`` is the same with publishing always on,
the job ``kehoach serve`` schedules. The steps themselves live in
``kehoach.build`` as plain functions, in the order ``kehoach.build.run_build`` gives.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from prefect import Task, flow, get_client, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.utilities.annotations import quote

from flows import parse_tasks, runners
from kehoach import build
from kehoach.audit.runner import AuditResult
from kehoach.core.errors import TryAgainLater
from kehoach.core.files import exclusive_lock
from kehoach.core.model import Tables
from kehoach.core.paths import DEFAULT_OUT, RAW_DIR
from kehoach.package.constraints import RowScope
from kehoach.package.layout import VERSIONS_DIR
from kehoach.parse import corpus
from kehoach.parse.cache import ParseCache
from kehoach.publish import targets as publishing
from kehoach.read.sources import SourceFile, SourceRecord
from kehoach.versions import versioning

# Sources named one by one in the log up to this many; a corpus is summed up.
LOGGED_SOURCES = 10
# The served refresh (``kehoach serve``, prefect.yaml's deployment) is run again by Prefect after
# a failure, this many times, after this many seconds: a run the machine was too busy for
# (``TryAgainLater``) passes later. ``kehoach refresh`` runs it once (``refresh_package.with_options``).
REFRESH_RETRIES = 2
REFRESH_RETRY_DELAY = 300


@task(name="read sources")
def read_sources(paths: list[str], urls: dict[str, str] | None = None) -> list[SourceFile]:
    sources = build.read_sources(paths, urls)
    named = ", ".join(f"{s.path} ({s.size} bytes, sha256 {s.sha256[:12]}…)" for s in sources[:LOGGED_SOURCES])
    more = f" and {len(sources) - LOGGED_SOURCES} more" if len(sources) > LOGGED_SOURCES else ""
    get_run_logger().info("read %d source(s), %d bytes: %s%s", len(sources), sum(s.size for s in sources),
                          named, more)
    return sources


def _parse_mapped(cache: ParseCache, paths: list[str], hashes: list[str], keys: list[str]) -> None:
    """One task per source, on the flow's own task runner; their entries stored here."""
    futures = parse_tasks.parse_one.map(paths, hashes)
    corpus.store(cache, zip(keys, (future.result() for future in futures), strict=True))


def _counted(tables: Tables) -> Tables:
    c = build.counts(tables)
    get_run_logger().info(
        "parsed %d plan(s): %d tasks (%d agency mentions), %d budget items (%d lines, %d stated totals), "
        "%d investments (%d lines), %d documents, %d areas",
        c["plans"], c["tasks"], c["task_agencies"], c["budget_items"], c["budget_lines"],
        c["budget_stated_totals"], c["investments"], c["investment_lines"], c["documents"], c["pillars"],
    )
    return tables


def parse(sources: list[SourceFile], cache: ParseCache) -> Tables:
    """The parse step: the sources without an entry in the parse cache parsed,
    one task per source in this flow for a few sources (one plan costs no more
    than a trivial flow), batches of sources in a subflow on a Dask cluster for
    a corpus or when a scheduler is given (each worker writes its sources'
    entries); then the corpus assembled from the entries."""
    keys = corpus.source_keys(sources)

    def parse_missing(indices: list[int]) -> None:
        paths, hashes = [sources[i].path for i in indices], [sources[i].sha256 for i in indices]
        get_run_logger().info("parsing %d of %d source(s); the others' tables from the parse cache %s",
                              len(indices), len(sources), cache.folder)
        if not runners.wants_dask(len(indices)):
            _parse_mapped(cache, paths, hashes, [keys[i] for i in indices])
            return
        _parse_on_dask(cache, paths, hashes, [keys[i] for i in indices])
    return _counted(corpus.assemble(sources, keys, cache, parse_missing))


def _parse_on_dask(cache: ParseCache, paths: list[str], hashes: list[str], keys: list[str]) -> None:
    with get_client(sync_client=True) as client:
        api_url = str(client.api_url).rstrip("/")
    runner = runners.parse_runner(len(paths), api_url)
    get_run_logger().info("parsing %d source(s) on %s", len(paths), runners.describe(runner))
    try:
        work = cache.write_work(paths, hashes, keys)
        try:
            parse_tasks.parse_corpus.with_options(task_runner=runner)(str(work), str(cache.folder))
        finally:
            work.unlink(missing_ok=True)  # a failed parse leaves its texts' entries only
    finally:
        runners.release_ahead()


@task(name="audit")
def audit(tables: Tables, sources: list[SourceRecord], out: Path, strict: bool = False) -> AuditResult:
    result = build.audit(tables, sources, out, strict)
    get_run_logger().info("audit: %s", result.summary_line())
    return result


@task(name="check inputs")
def check_inputs(sources: list[SourceFile], out: Path, strict: bool = False) -> build.InputCheck:
    check = build.check_inputs(sources, out, strict)
    logger = get_run_logger()
    if check.unchanged:
        logger.info("inputs unchanged since version %s (fingerprint %s…): nothing to rebuild",
                    check.version, check.fingerprint[:12])
    else:
        logger.info("inputs fingerprint %s… differs from the package in place (%s): rebuilding",
                    check.fingerprint[:12], f"version {check.version}" if check.version else "none")
    return check


@task(name="compare with the previous version")
def compare(tables: Tables, out: Path, sources: list[SourceRecord] | None = None) -> build.Comparison:
    comparison = build.compare(tables, out, sources)
    d = comparison.decision
    summaries = comparison.summaries()
    get_run_logger().info("%s", summaries[1] if summaries else f"first version {d.version}")
    return comparison


@task(name="stage package")
def stage(tables: Tables, sources: list[SourceRecord], out: Path, comparison: build.Comparison) -> tuple[Path, dict]:
    directory, desc = build.stage(tables, sources, out, comparison)
    get_run_logger().info("staged %d resources in %s", len(desc["resources"]), directory.name)
    return directory, desc


@task(name="validate package")
def validate(directory: Path, tables: Tables, sources: list[SourceRecord], scope: RowScope | None = None,
             in_place: Path | None = None) -> None:
    summary = build.validate_staged(directory, tables, sources, scope=scope, in_place=in_place)
    get_run_logger().info("validated %d resources (CSV and Parquet, %d rows): valid", summary.resources, summary.rows)


@task(name="swap in")
def swap(directory: Path, desc: dict, out: Path, check: build.InputCheck,
         comparison: build.Comparison) -> build.BuildResult:
    result = build.record_and_swap(directory, desc, out, check, comparison)
    previous = comparison.decision.previous
    get_run_logger().info("wrote %s (version %s%s)", out, desc["version"],
                          f"; version {previous} kept in {out / VERSIONS_DIR / previous}" if previous else "")
    return result


@task(name="keep the package in place")
def keep(directory: Path, out: Path, check: build.InputCheck) -> build.BuildResult:
    result = build.keep_in_place(directory, out, check)
    get_run_logger().info("the rebuilt package equals version %s: nothing written", check.version)
    return result


def _quoted(step: Task) -> Callable:
    """Call a task with its arguments quoted and no cache key: Prefect
    otherwise walks every argument looking for futures, and hashes them all
    (pickled) for a cache the build does not use (it has its own input
    fingerprint); a corpus's sources and tables take it seconds per task."""
    step = step.with_options(cache_policy=NO_CACHE)

    @functools.wraps(step)
    def call(*args, **kwargs):
        return step(*(quote(a) for a in args), **{k: quote(v) for k, v in kwargs.items()})
    return call


# The build sequence of kehoach.build, each step a task.
TASKS = build.Steps(read_sources=read_sources, check_inputs=_quoted(check_inputs),
                    parse=parse,
                    audit=_quoted(audit), compare=_quoted(compare), stage=_quoted(stage),
                    validate=_quoted(validate), swap=_quoted(swap), keep=_quoted(keep))


@flow(name="build_package", log_prints=False)
def build_package(
    sources: list[str] | None = None, out: str | None = None, publish_to: str | None = None,
    strict: bool = False, org: str | None = None, dataset: str | None = None,
    source_urls: dict[str, str] | None = None,
) -> build.BuildResult:
    """Build the package in ``out`` from ``sources`` when they changed (a new
    version with its changelog), then publish it to ``publish_to`` if given
    ("" = the default target) and not published there yet. ``source_urls``: where texts were
    published, by path or file name ('' for the one text), in place of their origin records'."""
    return _build_and_publish(sources, out, strict, publish_to, org, dataset, source_urls)


@flow(name="refresh_package", log_prints=False, retries=REFRESH_RETRIES, retry_delay_seconds=REFRESH_RETRY_DELAY)
def refresh_package(
    sources: list[str] | None = None, out: str | None = None, target: str | None = None,
    org: str | None = None, dataset: str | None = None, source_urls: dict[str, str] | None = None,
) -> build.BuildResult:
    """The scheduled job (``kehoach serve``, ``kehoach refresh``): rebuild when
    a source changed (or the address it is given, ``source_urls``: see ``build_package``) and
    publish every version not yet published to ``target``.
    A failed run is run again (``REFRESH_RETRIES``), as its log says."""
    try:
        return _build_and_publish(sources, out, False, target or "", org, dataset, source_urls)
    except Exception as exc:
        _say_retry(exc)
        raise


def _say_retry(exc: Exception) -> None:
    """Say in the run's log that Prefect will run it again, and when (if it will)."""
    context = FlowRunContext.get()
    retries, attempt = context.flow.retries, context.flow_run.run_count
    if attempt > retries:
        return
    why = "the machine was too busy" if isinstance(exc, TryAgainLater) else "this run failed"
    get_run_logger().warning("%s (%s): Prefect runs this refresh again in %s s (attempt %d of %d)",
                             why, exc, context.flow.retry_delay_seconds, attempt + 1, retries + 1)


def _build_and_publish(sources: list[str] | None, out: str | None, strict: bool, publish_to: str | None,
                       org: str | None, dataset: str | None,
                       source_urls: dict[str, str] | None = None) -> build.BuildResult:
    out_path = Path(out) if out else DEFAULT_OUT
    # One build per output at a time; a second waits, then finds nothing to do.
    with exclusive_lock(out_path):
        result = build.run_build([str(p) for p in sources or [RAW_DIR]], out_path, strict=strict, steps=TASKS,
                                 source_urls=source_urls)
        if publish_to is not None:
            result.notes.append(_publish_once(out_path, publish_to or None, result, org=org, dataset=dataset))
    return result


def _publish_once(out: Path, target: str | None, result: build.BuildResult, *,
                  org: str | None = None, dataset: str | None = None) -> str:
    """Publish unless this version is already published to this target (state
    in ``<out>/.kehoach/state.json``); a failed publish is retried next run."""
    key = publishing.target_key(target, org=org, dataset=dataset)
    state = versioning.read_state(out)
    published = state.get("published", {})
    done = published.get(key, {})
    # a version of the same data (settings or an address changed: a patch) is published too
    if (done.get("content_sha256"), done.get("version")) == (result.content_sha256, result.version):
        note = f"{key}: version {result.version} already published; nothing to do"
        get_run_logger().info("%s", note)
        return note
    # A package just validated is only re-checked against its hashes.
    report = publish(out, target, org=org, dataset=dataset, validate=not result.changed)
    published = {**published, key: {"version": result.version, "content_sha256": result.content_sha256}}
    versioning.write_state(out, {**state, "published": published})  # under the lock: state is as read
    return report.summary()


@task(name="publish")
def publish(
    out: Path, target: str | None = None, org: str | None = None, dataset: str | None = None,
    ckan_url: str | None = None, token_block: str | None = None, validate: bool = True,
    dry_run: bool = False, retry_deadline: float | None = None,
) -> publishing.PublishReport:
    # The CKAN token is never a parameter (Prefect records parameters): it is
    # read here from the environment, a token file or a Secret block.
    report = publishing.publish(
        out, target, org=org, dataset=dataset, ckan_url=ckan_url, token_block=token_block,
        validate=validate, dry_run=dry_run, retry_deadline=retry_deadline,
    )
    get_run_logger().info("%s", report.summary())
    return report


@flow(name="publish_package", log_prints=False)
def publish_package(
    out: str | None = None, target: str | None = None, org: str | None = None, dataset: str | None = None,
    ckan_url: str | None = None, token_block: str | None = None, dry_run: bool = False,
    retry_deadline: float | None = None,
) -> publishing.PublishReport:
    """Check the package in ``out`` again and publish it: to the portal folder, or with target "ckan" to CKAN."""
    return publish(
        Path(out) if out else DEFAULT_OUT, target, org=org, dataset=dataset, ckan_url=ckan_url,
        token_block=token_block, dry_run=dry_run, retry_deadline=retry_deadline,
    )
