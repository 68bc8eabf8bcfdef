"""Validation of the staged package: each table checked once.

- The CSV files are checked against their Table Schemas (types, constraints,
  unique fields, primary and foreign keys) by ``kehoach.package.constraints``:
  the schemas compiled into DuckDB queries, one pass per table, with the
  verdicts of Frictionless (the reference, in the tests and for
  ``frictionless validate datapackage.json``). Their size and sha256 are
  checked against the descriptor.
- The Parquet files are written from the same Arrow tables as the CSV
  files: each is read back and must have exactly the Arrow types the Table
  Schema declares (decimal precision and scale, dates, required = not null)
  and hold exactly the validated data: equal to the tables of the build, or,
  when validating a package on disk, rendering to the very bytes of its CSV
  twin (same sha256).

A failure is reported at the source line of the offending row when the row
carries one, in the source of its plan.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kehoach.core.errors import KehoachError
from kehoach.core.files import sha256_file
from kehoach.core.model import Tables, arrow_schema_of, record_batches
from kehoach.package.constraints import RowScope, Violation, check_csv_resources
from kehoach.package.csv_file import BATCH_ROWS, RowCursor, csv_sha256
from kehoach.package.layout import DESCRIPTOR, PARQUET_SUFFIX, RecordedFiles, read_descriptor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ValidationSummary:
    resources: int
    rows: int


def validate_package(
    directory: Path, tables: Tables | None = None, source_path: str | None = None,
    plan_sources: dict[str, str] | None = None, constrained: Collection[str] | None = None,
    scope: RowScope | None = None, share: float = 1.0, in_place: RecordedFiles | None = None,
) -> ValidationSummary:
    """Check the package in ``directory``; ``tables`` are the Arrow tables it
    was written from (None: check the files against each other).
    ``plan_sources`` (plan_id -> source path) or ``source_path`` locate errors.
    ``constrained`` names the tables whose Table Schemas are checked (None:
    every table); a package derived from validated tables (``kehoach.datasets``)
    checks only those made for it. ``scope``: what of a refresh can differ from the package in place
    (``RowScope``): given ``tables``, the CSV rows copied from it are not read again
    (``kehoach.package.scoped_rows``); None: every row. Files, sizes, hashes and Parquet twins are always
    checked. ``share``: of the DuckDB budget
    (``kehoach.core.duckdb_memory``; less while the DuckDB file is written beside). ``in_place``: the files
    of the package a refresh replaces; one of them linked into ``directory`` unchanged since it was signed
    and validated there (``RecordedFiles.vouches_for``) is not read again for its hash or Parquet data."""
    desc = read_descriptor(directory)
    tabular = [r for r in desc["resources"] if "schema" in r]
    csvs = [r for r in tabular if r.get("format") == "csv"]
    twins = {r["name"]: r for r in csvs}
    checked = csvs if constrained is None else [r for r in csvs if r["name"] in set(constrained)]
    linked = {r["path"] for r in tabular if in_place is not None and "hash" in r
              and in_place.vouches_for(directory / r["path"], r["path"], r["hash"])}
    unchanged = unchanged_tables(csvs, in_place) if scope is not None else frozenset()
    violations = [*_integrity(directory, [r for r in csvs if r["path"] not in linked]),
                  *(check_csv_resources(directory, checked, scope, share, tables, unchanged) if checked else [])]
    violations += [v for r in tabular if r.get("format") == "parquet"
                   for v in _parquet(directory, r, twins, tables, r["path"] in linked)]
    if violations:
        raise _first_error(violations, directory, source_path, plan_sources or {})
    return ValidationSummary(len(tabular), sum(int(r.get("rows") or 0) for r in tabular))


def unchanged_tables(csvs: list[dict], in_place: RecordedFiles | None) -> frozenset[str]:
    """The tables whose CSV resource records the hash of the package in place's file, which is still the file
    its descriptor records (``RecordedFiles.holds``): validated there, by a build of the same schemas (a
    refresh's scope requires them)."""
    if in_place is None:
        return frozenset()
    return frozenset(r["name"] for r in csvs if "hash" in r and in_place.holds_hash(r["path"], r["hash"]))


def _integrity(directory: Path, resources: list[dict]) -> list[Violation]:
    found = []
    for r in resources:
        path = directory / r["path"]
        if not path.is_file():
            found.append(Violation(r["name"], "scheme-error", f"no file {r['path']}", 1))
        elif "bytes" in r and path.stat().st_size != r["bytes"]:
            found.append(Violation(r["name"], "byte-count", f"{r['path']}: size differs from the descriptor", 1))
        elif "hash" in r and sha256_file(path) != str(r["hash"]).removeprefix("sha256:"):
            found.append(Violation(r["name"], "hash-count", f"{r['path']}: sha256 differs from the descriptor", 1))
    return found


def _parquet(directory: Path, resource: dict, twins: dict[str, dict], tables: Tables | None,
             linked: bool = False) -> list[Violation]:
    """A Parquet twin: the declared Arrow types, and the same data as its validated CSV (a file ``linked``
    from the package in place was compared there, and written again when its rows differ: not read again)."""
    name = resource["name"]
    table_name = name.removesuffix(PARQUET_SUFFIX)
    path = directory / resource["path"]
    if not path.is_file():
        return [Violation(name, "scheme-error", f"no file {resource['path']}", 1)]
    parquet = pq.ParquetFile(path)
    found = parquet.schema_arrow.remove_metadata()
    declared = arrow_schema_of(resource["schema"])
    if not found.equals(declared):
        return [Violation(name, "type-error", f"Arrow types {found} are not the Table Schema's {declared}", 1)]
    if linked:
        return []
    twin = twins.get(table_name)
    # read a batch at a time: a table of a national corpus is not held twice
    batches = parquet.iter_batches(batch_size=BATCH_ROWS)
    if tables is not None and table_name in tables:
        same = (parquet.metadata.num_rows == tables[table_name].num_rows
                and _same_rows(batches, record_batches(tables, table_name), declared))
    elif twin is not None:
        same = csv_sha256(found.names, batches) == str(twin.get("hash", "")).removeprefix("sha256:")
    else:
        return [Violation(name, "scheme-error", f"no CSV resource {table_name!r} to compare with", 1)]
    return [] if same else [Violation(name, "data-error", f"{resource['path']} does not hold the data of "
                                      f"{twin['path'] if twin else table_name}", 1)]


def _same_rows(batches: Iterable[pa.RecordBatch], table: pa.RecordBatchReader, declared: pa.Schema) -> bool:
    """The batches hold the rows of the table ``table`` reads (as the ``declared`` types), in its order: both
    read a batch at a time (a table of a corpus is not held whole beside the file's)."""
    rows = RowCursor(table)
    for batch in batches:
        taken = pa.Table.from_batches(list(rows.take(batch.num_rows)), table.schema)
        if not pa.Table.from_batches([batch]).equals(taken.cast(declared)):
            return False
    return True


def _first_error(violations: list[Violation], directory: Path, source_path: str | None,
                 plan_sources: dict[str, str]) -> KehoachError:
    total = sum(v.count for v in violations)
    first = violations[0]
    where = plan_sources.get(first.plan_id or "") or source_path
    line = first.source_line if where else None
    row = f" (row {first.row})" if first.row else ""
    return KehoachError(
        f"package is invalid ({total} error(s)); first: resource {first.resource!r}{row}: {first.kind}: {first.note}",
        where if line else str(directory / DESCRIPTOR), line,
    )
