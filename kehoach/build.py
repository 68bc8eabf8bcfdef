"""The build: its steps as plain functions, and their sequence, ``run_build``.

read -> check inputs -> parse (each text decoded where it is parsed; a text whose entry is in
the parse cache is not parsed again, kehoach.parse.cache) -> audit
-> compare with the package in place -> stage (new version, changelog)
-> validate -> archive the previous version and swap in -> write state

``run_build`` is the one place the order is written. The Prefect flow
(``flows.pipeline``) runs the same sequence with each step wrapped as a task
(``Steps``); tests and the benchmark call ``run_build`` as it is.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from kehoach.audit.runner import AuditResult, load_rules, run_audit, strict_error
from kehoach.audit.scope import STATE_KEY, previous_audit, rules_fingerprint
from kehoach.core.errors import KehoachError
from kehoach.core.files import link_or_copy_tree, made_in_moved, move_back, move_into, staging_dir, swap_in
from kehoach.core.memory import release
from kehoach.core.model import Tables
from kehoach.core.paths import SCHEMAS_DIR
from kehoach.package import pending
from kehoach.package.citation import stage_citation
from kehoach.package.constraints import RowScope
from kehoach.package.database import stage_database
from kehoach.package.identity import package_identity
from kehoach.package.landing import begin_charts, stage_landing_page
from kehoach.package.layout import (
    PLANS_DIR,
    RETIRED_PLANS_DIR,
    STATE_DIR,
    VERSIONS_DIR,
    RecordedFiles,
    current_descriptor,
    parquet_path,
    parse_cache_dir,
    sign_files,
)
from kehoach.package.readme import stage_readme
from kehoach.package.source_files import stage_sources
from kehoach.package.validate import validate_package
from kehoach.package.workbook import stage_workbook
from kehoach.package.writer import descriptor, now_iso, package_info, write_descriptor, write_tables
from kehoach.parse.cache import ParseCache, entry_key, folder_for, parser_fingerprint
from kehoach.parse.corpus import parse_sources, source_keys
from kehoach.parse.corpus_tables import folder_beside, without
from kehoach.read import source_urls as addresses
from kehoach.read.sources import (
    SourceFile,
    SourceRecord,
    decode_source,
    describe,
    discover,
    origin_path,
    read_file,
    without_bytes,
)
from kehoach.versions import versioning
from kehoach.versions.comparison import Comparison, compare
from kehoach.versions.diff import CHANGES, number_changes

log = logging.getLogger(__name__)

# Directories inside the output that survive a rebuild (kept across swaps).
PRESERVED = (VERSIONS_DIR, PLANS_DIR, RETIRED_PLANS_DIR)
# Where the parse cache is, when not with the output: a folder the flow and every Dask worker
# see at the same path (across machines, a shared file system); each output has its own folder in it.
PARSE_CACHE_ENV = "KEHOACH_PARSE_CACHE"
# Hooks run on the staged package before validation: (tables, staging dir, descriptor extras, with the
# identity: version, name, homepage) -> file resources they wrote: the Excel workbook, CITATION.cff, the
# README with the audit summary and the landing page with its charts (written in this order).
STAGE_HOOKS: list = [stage_workbook, stage_citation, stage_readme, stage_landing_page]
# Hooks that need the tables only (not the identity) and a share of the DuckDB budget: run in a
# thread while the other files are written and the package is validated (a large corpus's validation
# waits for them), their resources listed after the sources' (kehoach.package.pending). The DuckDB
# file: its keys cost DuckDB longer than Python takes to write the CSV files, and DuckDB does not
# hold the GIL.
BACKGROUND_HOOKS: list = [stage_database]


@dataclass
class BuildResult:
    out: Path
    version: str
    changed: bool
    content_sha256: str
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def read_sources(paths: list[str | Path], urls: dict[str, str] | None = None) -> list[SourceFile]:
    """Every source hashed and described, with its origin record, its bytes not kept (20,000 texts are
    about 2 GB; the parse reads and decodes what it parses).
    ``urls``: where texts were published, given to the build (``kehoach.read.source_urls``)."""
    found = [str(p) for p in discover(paths)]
    attached = addresses.attach(urls or {}, found)
    # described as read, then their bytes let go of: the parse reads what it parses
    return [without_bytes(addresses.with_url(read_file(p), attached.get(p))) for p in found]


def parse_cache(out: Path) -> ParseCache:
    """The parse cache of the package in ``out`` (``kehoach.parse.cache``)."""
    shared = os.environ.get(PARSE_CACHE_ENV, "").strip()
    return ParseCache(folder_for(Path(shared), out) if shared else parse_cache_dir(out))


def describe_sources(sources: list[SourceFile]) -> list[SourceRecord]:
    """What the package says of each source (path, hash, size, encoding, origin):
    the audit and the package quote no line, so the texts are not decoded again."""
    return [describe(s) for s in sources]


def preflight(paths: list[str | Path], out: Path, urls: dict[str, str] | None = None) -> None:
    """Cheap checks before an orchestrator starts: every source reads (and takes the address it is
    given), and a source that the parse will read decodes (one with an entry in the parse
    cache, or in an unchanged package, was decoded by the build that made it)."""
    sources = read_sources(paths, urls)
    if not check_inputs(sources, out).unchanged:
        for source in unparsed(sources, out):
            decode_source(source)


def unparsed(sources: list[SourceFile], out: Path) -> list[SourceFile]:
    """The sources a build of ``out`` will parse: those without an entry in its parse cache."""
    cache = parse_cache(out)
    return [s for s, key in zip(sources, source_keys(sources), strict=True) if not cache.path(key).is_file()]


def schema_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(SCHEMAS_DIR.glob("*.json")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def content_fingerprint(resources: list[dict]) -> str:
    """Hash of what the package says (data + schemas), not of when it was made."""
    digest = hashlib.sha256()
    for r in sorted(resources, key=lambda r: r["name"]):
        if r.get("format") == "csv":
            digest.update(f"{r['name']}:{r['hash']}\n".encode())
    digest.update(schema_fingerprint().encode())
    return digest.hexdigest()


# --- change detection and versions (kehoach.versions.versioning) -------------------------


@dataclass(frozen=True)
class InputCheck:
    """What the output directory says about the inputs of its package."""

    fingerprint: str
    state: dict
    version: str | None  # of the package in place
    content_sha256: str | None

    @property
    def unchanged(self) -> bool:
        """Same inputs as the package in place: nothing to do."""
        return (self.version is not None and self.state.get("input_fingerprint") == self.fingerprint
                and self.state.get("version") == self.version)


def input_hashes(sources: list[SourceFile] | list[SourceRecord]) -> dict[str, str]:
    """The sha256 of every file a build reads from its sources: each text and its
    origin record (its titles, number and licence go into the package)."""
    hashes = {s.path: s.sha256 for s in sources}
    hashes.update({str(origin_path(Path(s.path))): s.origin_sha256 for s in sources if s.origin_sha256})
    return hashes


def check_inputs(sources: list[SourceFile] | list[SourceRecord], out: Path, strict: bool = False) -> InputCheck:
    """Fingerprint the inputs (hashes only: nothing is decoded) against the
    package in place. With ``strict``, an unchanged package is still gated on
    its 'error' findings."""
    current = current_descriptor(out) or {}
    fingerprint = versioning.input_fingerprint(input_hashes(sources))
    check = InputCheck(fingerprint, versioning.read_state(out), current.get("version"), current.get("content_sha256"))
    error = strict_error_in_place(out, sources) if strict and check.unchanged else None
    if error:
        raise error
    return check


def audit(tables: Tables, sources: list[SourceRecord], out: Path, strict: bool = False) -> AuditResult:
    """Run the consistency rules (on a refresh, those of one plan on the changed plans only, the other findings
    taken from the package in ``out``: kehoach.audit.scope); with ``strict`` an 'error' finding of the corpus
    stops the build before anything is written."""
    # DuckDB spills in the folder the parse cache is in (the output's state folder, or KEHOACH_PARSE_CACHE): it
    # is there once the parse is done, and what a killed audit leaves there is not taken for an entry
    spill_in = parse_cache(out).folder.parent
    result = run_audit(tables, previous=previous_audit(tables, out, load_rules()), spill_in=spill_in)
    error = strict_error(result.tables, sources) if strict else None
    if error:
        raise error
    return result


def stage(tables: Tables, sources: list[SourceRecord], out: Path,
          comparison: Comparison | None = None) -> tuple[Path, dict]:
    """Write the complete package, with its version and changelog, into a
    staging directory next to ``out``."""
    comparison = comparison or Comparison.first()
    decision = comparison.decision
    tables = tables | {CHANGES: number_changes(comparison.changes, decision.version, decision.previous or "")}
    directory = staging_dir(out)
    try:
        # the DuckDB file (from the package in place when the refresh's scope is known) and the landing page's
        # charts are made in threads beside the rest (kehoach.package.pending)
        in_place = pending.InPlace(out, comparison.scope) if comparison.scope is not None else None
        pending.start(directory, BACKGROUND_HOOKS, tables, in_place)
        begin_charts(tables, directory)
        # the CSV rows of the plans that did not change are copied from the package in place
        resources = write_tables(tables, directory, out, comparison.scope)
        cache = parse_cache(out)
        resources += stage_sources(sources, directory, lambda s: cache.rendering(entry_key(s.path, s.sha256)), out)
        pending.list_after(directory, len(resources))  # where its resources always were
        extra: dict = {"content_sha256": content_fingerprint(resources)}
        summaries = comparison.summaries()
        if decision.previous:
            extra["previous_version"] = decision.previous
        if summaries:
            extra["change_summary_vi"], extra["change_summary"] = summaries
        # the description (and so the portal's dataset page) carries the latest change
        info = package_info(tables, sources, decision.version, now_iso(), change=summaries)
        extra.update(package_identity(info, tables, comparison.previous_descriptor))
        for hook in STAGE_HOOKS:
            resources += hook(tables, directory, extra) or []
        desc = descriptor(info, sources, resources, extra)
        write_descriptor(directory, desc)
    except BaseException:
        discard(directory)
        raise
    return directory, desc


def is_noop(comparison: Comparison, staged: dict) -> bool:
    """A patch-level build whose metadata did not change either: nothing to publish."""
    return (comparison.decision.level == "patch" and comparison.previous_descriptor is not None
            and not versioning.metadata_changed(comparison.previous_descriptor, staged))


def validate_staged(directory: Path, tables: Tables, sources: list[SourceRecord], scope: RowScope | None = None,
                    in_place: Path | None = None, constrained: Collection[str] | None = None):
    """Validate the staged package (``scope``: what can differ from the package in place, in ``in_place``;
    ``constrained``: only these tables' Table Schemas; see ``kehoach.package.validate``); an invalid one is removed."""
    try:
        by_hash = {s.sha256: s.path for s in sources}
        plans = tables["plans"]
        plan_sources = {p: by_hash.get(h, "") for p, h in zip(plans.column("plan_id").to_pylist(),
                                                              plans.column("source_sha256").to_pylist(), strict=True)}
        # the changelog is made by ``stage``: its Parquet file is checked against its CSV twin
        written = without(tables, CHANGES)
        # beside the DuckDB file still being written, or after it for a large corpus (kehoach.package.pending)
        share = pending.make_room(directory)
        vouching = RecordedFiles(in_place) if in_place is not None and scope is not None else None
        return validate_package(directory, written, sources[0].path if len(sources) == 1 else None, plan_sources,
                                constrained, scope, share, vouching)
    except BaseException:  # an invalid package, a full disk, a kill: no staging directory is left
        discard(directory)
        raise


def swap(directory: Path, out: Path, previous_version: str | None = None) -> None:
    """Swap the staged package in; the one it replaces is kept, whole, under ``versions/<previous_version>/``
    (hard links: versions are immutable). The archive and the plans' datasets are moved in, one rename each
    (linked, a refresh linked every file of every version again), and back if the swap fails (``move_into``)."""
    try:
        move_into(directory, out, PRESERVED)
        # the parse cache and the corpus's table files beside it: moved too (a swap that then fails loses a
        # cache, not data)
        for kept in (parse_cache_dir(out), folder_beside(parse_cache_dir(out))):
            if kept.is_dir():
                parse_cache_dir(directory).parent.mkdir(parents=True, exist_ok=True)
                os.rename(kept, parse_cache_dir(directory).parent / kept.name)
        if previous_version and out.exists() and not (directory / VERSIONS_DIR / previous_version).exists():
            archive = made_in_moved(directory, f"{VERSIONS_DIR}/{previous_version}")
            link_or_copy_tree(out, archive, exclude=(*PRESERVED, STATE_DIR))
        swap_in(directory, out)
    except BaseException:
        move_back(directory, out)
        raise


def new_state(check: InputCheck, desc: dict, comparison: Comparison) -> dict:
    """The state recorded with a package: its inputs, version and history."""
    d = comparison.decision
    entry = {"version": desc["version"], "created": desc["created"], "level": d.level,
             "previous_version": d.previous, "changes": len(comparison.changes)}
    changed = {"settings_changed": comparison.settings_changed, "addresses_changed": comparison.addresses_changed}
    entry.update({key: list(named) for key, named in changed.items() if named})
    history = [*check.state.get("history", []), entry]
    return {**check.state, "input_fingerprint": check.fingerprint, "version": desc["version"],
            "content_sha256": desc["content_sha256"], "settings": versioning.package_settings(), "history": history,
            "parser_fingerprint": parser_fingerprint(), STATE_KEY: rules_fingerprint()}


def strict_error_in_place(out: Path, sources: list[SourceFile] | list[SourceRecord]) -> KehoachError | None:
    """``--strict`` on the package in place: its 'error' findings, located in the sources."""
    tables = {n: pq.read_table(out / parquet_path(n)) for n in ("findings", "plans")}
    return strict_error(tables, sources)


def discard(directory: Path) -> None:
    pending.settle(directory)  # no thread still writing in it
    shutil.rmtree(directory, ignore_errors=True)


def counts(tables: Tables) -> dict[str, int]:
    return {name: t.num_rows for name, t in tables.items()}


def record_and_swap(directory: Path, desc: dict, out: Path, check: InputCheck, comparison: Comparison) -> BuildResult:
    """Record the new state in the staged package, then swap it in."""
    try:
        desc = pending.finish(directory, desc)
        versioning.write_state(directory, new_state(check, desc, comparison))
        sign_files(directory, desc)  # the next build need not read these files again to trust them
        swap(directory, out, comparison.decision.previous)
    except BaseException:  # a full disk or a permission error: the package in place stays, alone
        discard(directory)
        raise
    return BuildResult(out, desc["version"], True, desc["content_sha256"])


def keep_in_place(directory: Path, out: Path, check: InputCheck) -> BuildResult:
    """Inputs changed but the package would not (e.g. a code change that does
    not touch the data): no new version; only the state learns the inputs."""
    discard(directory)
    versioning.write_state(out, {**check.state, "input_fingerprint": check.fingerprint,
                                 "settings": versioning.package_settings(), "parser_fingerprint": parser_fingerprint()})
    return BuildResult(out, str(check.version), False, str(check.content_sha256))


@dataclass(frozen=True)
class Steps:
    """The steps ``run_build`` calls; the Prefect flow passes them wrapped as tasks."""

    read_sources: Callable[..., list[SourceFile]] = read_sources
    check_inputs: Callable[..., InputCheck] = check_inputs
    parse: Callable[..., Tables] = parse_sources
    audit: Callable[..., AuditResult] = audit
    compare: Callable[..., Comparison] = compare
    stage: Callable[..., tuple[Path, dict]] = stage
    validate: Callable[..., object] = validate_staged
    swap: Callable[..., BuildResult] = record_and_swap
    keep: Callable[..., BuildResult] = keep_in_place


def run_build(sources: list[str | Path], out: Path, *, strict: bool = False, steps: Steps = Steps(),
              source_urls: dict[str, str] | None = None) -> BuildResult:
    """Build the package in ``out`` from ``sources`` (published at ``source_urls``: ``read_sources``)
    when they changed: a new version with its changelog, validated before it is swapped in. The
    caller holds the output's lock (``kehoach.core.files.exclusive_lock``)."""
    files = steps.read_sources(sources, source_urls)
    check = steps.check_inputs(files, out, strict)
    if check.unchanged:  # decided on hashes: no text was decoded
        return BuildResult(out, str(check.version), False, str(check.content_sha256))
    # the parse decodes what it parses; the rest of the build quotes no line of a text
    # the corpus's table files are kept beside the cache for the next build (kehoach.parse.corpus_tables)
    cache = parse_cache(out)
    described = describe_sources(files)
    parsed_tables = steps.parse(files, cache)
    del files
    release()  # what a step freed is given back before the next (kehoach.core.memory)
    return _build_parsed(parsed_tables, described, out, check, strict, steps)


def _build_parsed(parsed_tables: Tables, described: list[SourceRecord], out: Path, check: InputCheck, strict: bool,
                  steps: Steps) -> BuildResult:
    """The steps after the parse (``run_build``)."""
    tables = steps.audit(parsed_tables, described, out, strict).tables
    release()
    comparison = steps.compare(tables, out, described)
    directory, desc = steps.stage(tables, described, out, comparison)
    release()
    if is_noop(comparison, desc):
        return steps.keep(directory, out, check)
    steps.validate(directory, tables, described, comparison.scope, out)
    release()
    rows = counts(tables)  # before the swap, which removes the folder the tables are read from
    result = steps.swap(directory, desc, out, check, comparison)
    result.counts = rows
    return result
