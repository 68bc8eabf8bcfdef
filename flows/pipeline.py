"""Prefect flows: the orchestration of the build stages.

``build_package`` runs read -> parse -> stage -> validate -> swap, each as a
Prefect task that logs one line with counts. The steps themselves live in
``flows.build`` and are plain functions.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task

from . import audit as auditing
from . import build
from . import publish as publishing
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


# --- audit (issue #4) ---------------------------------------------------


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


# --- end audit -------------------------------------------------------------


@task(name="stage package")
def stage(tables: Tables, sources: list[SourceText], out: Path) -> tuple[Path, dict]:
    directory, desc = build.stage(tables, sources, out)
    get_run_logger().info("staged %d resources in %s", len(desc["resources"]), directory.name)
    return directory, desc


@task(name="validate package")
def validate(directory: Path, tables: Tables, sources: list[SourceText]) -> None:
    summary = build.validate_staged(directory, tables, sources)
    get_run_logger().info("validated %d resources (CSV and Parquet, %d rows): valid", summary.resources, summary.rows)


@task(name="swap in")
def swap(directory: Path, desc: dict, out: Path) -> build.BuildResult:
    build.swap(directory, out)
    get_run_logger().info("wrote %s (version %s)", out, desc["version"])
    return build.BuildResult(out, desc["version"], True, desc["content_sha256"])


@flow(name="build_package", log_prints=False)
def build_package(
    sources: list[str] | None = None, out: str | None = None, publish_to: str | None = None,
    strict: bool = False,
) -> build.BuildResult:
    out_path = Path(out) if out else DEFAULT_OUT
    texts = read_sources([str(p) for p in (sources or [RAW_DIR])])
    tables = parse(texts)
    tables = audit(tables, texts, strict)  # issue #4
    directory, desc = stage(tables, texts, out_path)
    validate(directory, tables, texts)
    result = swap(directory, desc, out_path)
    result.counts = build.counts(tables)
    if publish_to is not None:  # "" = the default target (portal/ or $KEHOACH_PUBLISH_TARGET)
        # just validated: the publish step re-checks hashes only
        report = publish(out_path, publish_to or None, validate=False)
        result.notes.append(report.summary())
    return result


# --- publish (issue #5) ---------------------------------------------------


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
