"""Prefect flows: the orchestration of the build stages.

``build_package`` runs read -> check inputs -> parse -> audit -> compare ->
stage -> validate -> swap (-> publish), each as a Prefect task that logs one
line with counts; ``refresh_package`` is the same with publishing always on,
the job ``kehoach serve`` schedules. The steps themselves live in
``flows.build`` and are plain functions.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task

from . import audit as auditing
from . import build, versioning
from . import publish as publishing
from .files import exclusive_lock
from .model import Tables
from .paths import DEFAULT_OUT, RAW_DIR
from .sources import SourceText


@task(name="read sources")
def read_sources(paths: list[str]) -> list[SourceText]:
    sources = build.read_sources(paths)
    get_run_logger().info(
        "read %d source(s): %s",
        len(sources),
        ", ".join(f"{s.path} ({s.size} bytes, sha256 {s.sha256[:12]}…, {len(s.lines)} lines)" for s in sources),
    )
    return sources


@task(name="parse")
def parse(sources: list[SourceText]) -> Tables:
    tables = build.parse_sources(sources)
    c = build.counts(tables)
    get_run_logger().info(
        "parsed %d plan(s): %d tasks (%d agency mentions), %d budget items (%d lines, %d stated totals), "
        "%d investments (%d lines), %d documents, %d areas",
        c["plans"], c["tasks"], c["task_agencies"], c["budget_items"], c["budget_lines"],
        c["budget_stated_totals"], c["investments"], c["investment_lines"], c["documents"], c["pillars"],
    )
    return tables


@task(name="audit")
def audit(tables: Tables, sources: list[SourceText], strict: bool = False) -> Tables:
    """Run the consistency rules in DuckDB; the findings join the tables. With
    ``strict``, an 'error' finding stops the build before anything is written."""
    result = auditing.run_audit(tables)
    get_run_logger().info("audit: %s", result.summary_line())
    error = auditing.strict_error(result.tables, sources) if strict else None
    if error:
        raise error
    return result.tables


@task(name="check inputs")
def check_inputs(sources: list[SourceText], out: Path, strict: bool = False) -> build.InputCheck:
    check = build.check_inputs(sources, out)
    logger = get_run_logger()
    if check.unchanged:
        logger.info("inputs unchanged since version %s (fingerprint %s…): nothing to rebuild",
                    check.version, check.fingerprint[:12])
        error = build.strict_error_in_place(out, sources) if strict else None
        if error:  # --strict still gates an unchanged package on its findings
            raise error
    else:
        logger.info("inputs fingerprint %s… differs from the package in place (%s): rebuilding",
                    check.fingerprint[:12], f"version {check.version}" if check.version else "none")
    return check


@task(name="compare with the previous version")
def compare(tables: Tables, out: Path) -> build.Comparison:
    comparison = build.compare(tables, out)
    d = comparison.decision
    summaries = comparison.summaries()
    get_run_logger().info("%s", summaries[1] if summaries else f"first version {d.version}")
    return comparison


@task(name="stage package")
def stage(tables: Tables, sources: list[SourceText], out: Path, comparison: build.Comparison) -> tuple[Path, dict]:
    directory, desc = build.stage(tables, sources, out, comparison)
    get_run_logger().info("staged %d resources in %s", len(desc["resources"]), directory.name)
    return directory, desc


@task(name="validate package")
def validate(directory: Path, tables: Tables, sources: list[SourceText]) -> None:
    summary = build.validate_staged(directory, tables, sources)
    get_run_logger().info("validated %d resources (CSV and Parquet, %d rows): valid", summary.resources, summary.rows)


@task(name="swap in")
def swap(directory: Path, desc: dict, out: Path, check: build.InputCheck,
         comparison: build.Comparison) -> build.BuildResult:
    versioning.write_state(directory, build.new_state(check, desc, comparison))
    build.swap(directory, out, comparison.decision.previous)
    previous = comparison.decision.previous
    get_run_logger().info("wrote %s (version %s%s)", out, desc["version"],
                          f"; version {previous} kept in {out / 'versions' / previous}" if previous else "")
    return build.BuildResult(out, desc["version"], True, desc["content_sha256"])


@task(name="keep the package in place")
def keep(directory: Path, out: Path, check: build.InputCheck) -> build.BuildResult:
    """Inputs changed but the package would not (e.g. a code change that
    does not touch the data): no new version; only the state learns the inputs."""
    build.discard(directory)
    versioning.write_state(out, {**check.state, "input_fingerprint": check.fingerprint})
    get_run_logger().info("the rebuilt package equals version %s: nothing written", check.version)
    return build.BuildResult(out, str(check.version), False, str(check.content_sha256))


def _build(sources: list[str] | None, out_path: Path, strict: bool) -> build.BuildResult:
    texts = read_sources([str(p) for p in (sources or [RAW_DIR])])
    check = check_inputs(texts, out_path, strict)
    if check.unchanged:
        return build.BuildResult(out_path, str(check.version), False, str(check.content_sha256))
    tables = parse(texts)
    tables = audit(tables, texts, strict)
    comparison = compare(tables, out_path)
    directory, desc = stage(tables, texts, out_path, comparison)
    if build.is_noop(comparison, desc):
        return keep(directory, out_path, check)
    validate(directory, tables, texts)
    result = swap(directory, desc, out_path, check, comparison)
    result.counts = build.counts(tables)
    return result


@flow(name="build_package", log_prints=False)
def build_package(
    sources: list[str] | None = None, out: str | None = None, publish_to: str | None = None,
    strict: bool = False, org: str | None = None, dataset: str | None = None,
) -> build.BuildResult:
    """Build the package in ``out`` from ``sources`` when they changed (a new
    version with its changelog), then publish it to ``publish_to`` if given
    ("" = the default target) and not published there yet."""
    return _build_and_publish(sources, out, strict, publish_to, org, dataset)


@flow(name="refresh_package", log_prints=False)
def refresh_package(
    sources: list[str] | None = None, out: str | None = None, target: str | None = None,
    org: str | None = None, dataset: str | None = None,
) -> build.BuildResult:
    """The scheduled job (``kehoach serve``, ``kehoach refresh``): rebuild when
    a source changed and publish every version not yet published to ``target``."""
    return _build_and_publish(sources, out, False, target or "", org, dataset)


def _build_and_publish(sources: list[str] | None, out: str | None, strict: bool, publish_to: str | None,
                       org: str | None, dataset: str | None) -> build.BuildResult:
    out_path = Path(out) if out else DEFAULT_OUT
    # One build per output at a time; a second waits, then finds nothing to do.
    with exclusive_lock(out_path):
        result = _build(sources, out_path, strict)
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
    if published.get(key, {}).get("content_sha256") == result.content_sha256:
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
