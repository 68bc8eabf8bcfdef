"""Prefect flows: the orchestration of the build stages.

``build_package`` runs read -> parse -> stage -> validate -> swap, each as a
Prefect task that logs one line with counts. The steps themselves live in
``flows.build`` and are plain functions.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task

from . import build
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
def build_package(sources: list[str] | None = None, out: str | None = None) -> build.BuildResult:
    out_path = Path(out) if out else DEFAULT_OUT
    texts = read_sources([str(p) for p in (sources or [RAW_DIR])])
    tables = parse(texts)
    directory, desc = stage(tables, texts, out_path)
    validate(directory, tables, texts)
    result = swap(directory, desc, out_path)
    result.counts = build.counts(tables)
    return result
