"""One dataset per plan, derived from the validated corpus package.

Portals list documents, so besides the corpus package in ``<out>`` every
plan gets a package of its own in ``<out>/plans/<plan_id>/``: that plan's
rows of every table, its own metadata, versions and changelog. It is made
from the corpus tables (no second parse) by the same steps as any build
(``kehoach.build``: compare, stage, validate, swap), so whatever the
writer and the publishers add to a package applies to every dataset.

- Tables with a ``plan_id`` column: the plan's rows, in corpus order.
- Tables without one (code lists): whole, unless the schema's resource block
  says ``"per_plan": "referenced"`` (the related documents): then the rows the
  plan's rows refer to through foreign keys.
- ``changes``: the plan package's own changelog, computed as for any build;
  ``audit_rules.findings`` counts the plan's findings.

A plan package is rebuilt only when its derived tables differ from the ones
it was made from (a fingerprint of their Arrow data, recorded in its state),
so amending one plan rewrites that plan's package only; the others are not
written to.

Its validation checks what deriving can change: every file against the
descriptor, every Parquet file against its Arrow types and the tables, and
the Table Schemas of the tables made for it (the changelog, the audit rules'
counts). The other tables are rows of the corpus tables validated by the
build: a subset of valid rows keeps its types, required cells, enums, ranges
and unique keys, and its foreign keys, because the code lists it refers to
keep every row referred to. (``kehoach validate`` on a plan package checks
everything; the tests do so.)

A plan that leaves the corpus is retired, not deleted: its package moves,
whole with its versions, to ``<out>/retired-plans/<plan_id>/`` with the date
recorded in its state, and the publishers withdraw its dataset. If the plan
comes back, its package returns and continues its versions.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kehoach import build
from kehoach.core.files import exclusive_lock
from kehoach.core.model import Tables, load_schema, primary_key, resource_meta, resource_names
from kehoach.core.settings import whole_number
from kehoach.package.layout import (
    DESCRIPTOR,
    PLANS_DIR,
    RETIRED_PLANS_DIR,
    current_descriptor,
    read_descriptor,
    table_resources,
)
from kehoach.package.writer import now_iso
from kehoach.read.sources import SourceRecord, read_origin
from kehoach.versions import versioning
from kehoach.versions.diff import CHANGES

PLAN_ID = "plan_id"
_ROW = "__row"
RETIRED = "retired"  # state key of a retired plan package
# Tables a plan package does not take as rows of the corpus: their Table
# Schemas are checked again (see the module docstring).
MADE_FOR_THE_PLAN = (CHANGES, "audit_rules")
WORKERS_ENV = "KEHOACH_PLAN_WORKERS"
POOL_FROM = 8  # plan packages to make before a pool of processes pays for itself


@dataclass(frozen=True)
class PlanDataset:
    plan_id: str
    directory: Path
    version: str
    changed: bool  # written by this update


def plan_dirs(out: Path, where: str = PLANS_DIR) -> list[Path]:
    """The plan packages in place (or, ``where=RETIRED_PLANS_DIR``, retired), in plan_id order."""
    root = out / where
    return sorted(p for p in root.iterdir() if (p / DESCRIPTOR).is_file()) if root.is_dir() else []


def retired_plan_dirs(out: Path) -> list[Path]:
    return plan_dirs(out, RETIRED_PLANS_DIR)


def retire_plans(out: Path, current: set[str]) -> list[Path]:
    """Move the packages of plans not in ``current`` to ``<out>/retired-plans/``; where they went."""
    corpus = current_descriptor(out) or {}
    moved = []
    for directory in plan_dirs(out):
        if directory.name in current:
            continue
        destination = out / RETIRED_PLANS_DIR / directory.name
        with exclusive_lock(directory):
            state = versioning.read_state(directory)
            versioning.write_state(directory, {**state, RETIRED: {
                "date": now_iso(), "reason": "not in the corpus", "corpus_version": corpus.get("version")}})
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(directory, destination)  # one rename: the package is whole in one place or the other
        moved.append(destination)
    return moved


def _restore(directory: Path, out: Path) -> None:
    """A retired plan that is back in the corpus: its package returns (call under its lock)."""
    retired = out / RETIRED_PLANS_DIR / directory.name
    if (directory / DESCRIPTOR).is_file() or not (retired / DESCRIPTOR).is_file():
        return
    if directory.exists():
        os.rmdir(directory)  # an empty folder left by a lock, nothing else
    os.replace(retired, directory)
    state = versioning.read_state(directory)
    state.pop(RETIRED, None)
    versioning.write_state(directory, state)


def corpus_tables(out: Path) -> Tables:
    """The validated tables of the corpus package in ``out`` (without its changelog): those its descriptor lists."""
    resources = table_resources(read_descriptor(out))
    return {n: pq.read_table(out / r["path"]) for n, r in resources.items() if n != CHANGES}


def split_by_plan(tables: Tables) -> dict[str, Tables]:
    """plan_id -> that plan's tables (see the module's docstring)."""
    plan_ids = tables["plans"].column(PLAN_ID).to_pylist()
    parts: dict[str, Tables] = {p: {} for p in plan_ids}
    for name, table in tables.items():
        if PLAN_ID in table.column_names:
            for plan_id, rows in _slices(table).items():
                if plan_id in parts:
                    parts[plan_id][name] = rows
            for plan_id in plan_ids:
                parts[plan_id].setdefault(name, table.schema.empty_table())
    for name, table in tables.items():
        if PLAN_ID not in table.column_names:
            referenced = resource_meta(name).get("per_plan") == "referenced"
            for part in parts.values():
                part[name] = _referenced(name, table, part) if referenced else table
    for part in parts.values():
        _recount_findings(part)
    return parts


def _recount_findings(part: Tables) -> None:
    """``audit_rules.findings`` counts the findings of the package: of this plan, here."""
    rules = part.get("audit_rules")
    if rules is None or "findings" not in rules.column_names:
        return
    counted = part["findings"].group_by("rule_id").aggregate([("rule_id", "count")]).to_pylist()
    per_rule = {row["rule_id"]: row["rule_id_count"] for row in counted}
    index = rules.column_names.index("findings")
    values = pa.array([per_rule.get(r, 0) for r in rules.column("rule_id").to_pylist()], rules.schema.field(index).type)
    part["audit_rules"] = rules.set_column(index, rules.schema.field(index), values)


def _slices(table: pa.Table) -> dict[str, pa.Table]:
    """Rows per plan_id, each in table order (a stable sort, then zero-copy slices)."""
    if table.num_rows == 0:
        return {}
    ordered = table.take(pc.sort_indices(table, sort_keys=[(PLAN_ID, "ascending")]))
    encoded = pc.dictionary_encode(ordered.column(PLAN_ID).combine_chunks())
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    starts = [0, *(np.flatnonzero(codes[1:] != codes[:-1]) + 1).tolist()]
    ends = [*starts[1:], len(codes)]
    names = encoded.dictionary.to_pylist()
    return {names[codes[s]]: ordered.slice(s, e - s) for s, e in zip(starts, ends, strict=True)}


def _referenced(name: str, table: pa.Table, part: Tables) -> pa.Table:
    """The rows of code list ``name`` that the plan's rows refer to by foreign keys."""
    target_key = primary_key(name)
    keys = []
    for other in resource_names():
        for fk in load_schema(other).get("foreignKeys", []):
            if fk["reference"]["resource"] != name or other not in part or PLAN_ID not in part[other].column_names:
                continue
            fields, ref = list(fk["fields"]), list(fk["reference"]["fields"])
            rows = part[other].select(fields).rename_columns(ref)
            keys.append(rows.filter(pc.is_valid(rows.column(0))).cast(table.select(ref).schema))
    if not keys:
        return table.schema.empty_table()
    wanted = pa.concat_tables(keys).group_by(target_key).aggregate([])
    indexed = table.append_column(_ROW, pa.array(np.arange(table.num_rows)))
    kept = indexed.join(wanted, keys=target_key, join_type="left semi")
    return kept.sort_by(_ROW).drop_columns([_ROW]).cast(table.schema)


def fingerprint(tables: Tables, code: str) -> str:
    """What a plan package is made from: its tables' Arrow data, and ``code``
    (``versioning.build_fingerprint()``: the code, schemas, vocabularies and the settings the package carries)."""
    digest = hashlib.sha256(code.encode())
    for name in sorted(tables):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, tables[name].schema) as writer:
            writer.write_table(tables[name])
        digest.update(name.encode())
        digest.update(hashlib.sha256(sink.getvalue()).digest())
    return digest.hexdigest()


def plan_sources(out: Path, tables: Tables) -> dict[str, SourceRecord]:
    """plan_id -> its source: the text the corpus package ships (``source/``),
    with its origin record; not re-read or re-parsed, only copied into the
    plan's package."""
    desc = read_descriptor(out)
    entries = {str(s.get("hash", "")).removeprefix("sha256:"): s for s in desc.get("sources", [])}
    encodings = {r.get("path"): r.get("encoding") for r in desc.get("resources", [])}
    found = {}
    for plan_id, sha in zip(tables["plans"].column(PLAN_ID).to_pylist(),
                            tables["plans"].column("source_sha256").to_pylist(), strict=True):
        entry = entries.get(sha, {})
        path = out / str(entry.get("path", ""))
        origin = read_origin(path) or {k: v for k, v in entry.items()
                                       if k not in ("path", "hash", "bytes", "format", "text_path")}
        found[plan_id] = SourceRecord(str(path), sha, int(entry.get("bytes") or 0),
                                      encodings.get(entry.get("path")) or "utf-8", origin,
                                      format=entry.get("format", "text"))
    return found


def _inputs(code: str, source: SourceRecord) -> str:
    """What a plan package is made from besides its tables: ``code`` and its text's origin record
    (titles, number, the address it was published at, given to the corpus's build or recorded)."""
    origin = json.dumps(source.origin, sort_keys=True, ensure_ascii=False)
    return code + hashlib.sha256(origin.encode()).hexdigest()


def _check(tables: Tables, directory: Path, code: str) -> build.InputCheck:
    current = current_descriptor(directory) or {}
    return build.InputCheck(fingerprint(tables, code), versioning.read_state(directory), current.get("version"),
                            current.get("content_sha256"))


def update_plan(plan_id: str, tables: Tables, source: SourceRecord, directory: Path, code: str) -> PlanDataset:
    """Make the package of one plan in ``directory`` when its tables changed (the build's steps)."""
    check = _check(tables, directory, code)
    if check.unchanged:
        return PlanDataset(plan_id, directory, str(check.version), False)
    comparison = build.compare(tables, directory, [source])
    staged, desc = build.stage(tables, [source], directory, comparison)
    if build.is_noop(comparison, desc):
        result = build.keep_in_place(staged, directory, check)
        return PlanDataset(plan_id, directory, result.version, False)
    build.validate_staged(staged, tables, [source], constrained=[n for n in MADE_FOR_THE_PLAN if n in tables])
    result = build.record_and_swap(staged, desc, directory, check, comparison)
    return PlanDataset(plan_id, directory, result.version, True)


def _update_locked(plan_id: str, tables: Tables, source: SourceRecord, directory: Path, code: str) -> PlanDataset:
    with exclusive_lock(directory):
        return update_plan(plan_id, tables, source, directory, code)


def plan_workers(pending: int, workers: int | None = None) -> int:
    """Processes that make ``pending`` plan packages: ``workers``, else
    $KEHOACH_PLAN_WORKERS, else one per CPU from ``POOL_FROM`` packages on
    (a worker first imports the library, about two seconds)."""
    if workers is None:
        workers = whole_number(WORKERS_ENV, minimum=0)
    if workers is None:
        workers = (os.cpu_count() or 1) if pending >= POOL_FROM else 1
    return max(1, min(workers, pending))


def update_plan_datasets(out: Path, workers: int | None = None) -> list[PlanDataset]:
    """Bring every plan package under ``<out>/plans/`` up to date with the
    corpus package in ``out``, each under its own lock, and retire those of
    plans no longer in it. A corpus of one plan is that plan's dataset
    already (same name, same rows): it has no plan packages.

    Unchanged packages are recognised here by their fingerprint; the others
    are made in parallel processes (``plan_workers``), each plan on its own."""
    tables = corpus_tables(out)
    if tables["plans"].num_rows < 2:
        retire_plans(out, set())
        return []
    sources = plan_sources(out, tables)
    code = versioning.build_fingerprint()
    found: dict[str, PlanDataset] = {}
    pending = []
    for plan_id, part in split_by_plan(tables).items():
        directory = out / PLANS_DIR / plan_id
        with exclusive_lock(directory):
            _restore(directory, out)
            inputs = _inputs(code, sources[plan_id])
            check = _check(part, directory, inputs)
        if check.unchanged:
            found[plan_id] = PlanDataset(plan_id, directory, str(check.version), False)
        else:
            pending.append((plan_id, part, sources[plan_id], directory, inputs))
    count = plan_workers(len(pending), workers)
    if count > 1:
        # spawned, not forked: the parent may hold DuckDB, Prefect or Dask threads
        with ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn")) as pool:
            made = list(pool.map(_update_locked, *zip(*pending, strict=True)))
    else:
        made = [_update_locked(*job) for job in pending]
    found.update((p.plan_id, p) for p in made)
    retire_plans(out, set(found))
    return [found[plan_id] for plan_id in tables["plans"].column(PLAN_ID).to_pylist()]
