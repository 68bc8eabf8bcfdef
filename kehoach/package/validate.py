"""Validation of the staged package with Frictionless (types, constraints, keys).

Every CSV and Parquet resource is checked against its Table Schema,
including primary and foreign keys, before the package may replace the
previous one. A failure is reported at the source line of the offending row
when the row carries one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from frictionless import Package, system

from kehoach.core.errors import KehoachError
from kehoach.core.model import Tables
from kehoach.package.layout import DESCRIPTOR, PARQUET_SUFFIX

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ValidationSummary:
    resources: int
    rows: int


def validate_package(
    directory: Path, tables: Tables | None = None, source_path: str | None = None
) -> ValidationSummary:
    with system.use_context(trusted=True):
        package = Package(str(directory / DESCRIPTOR))
        report = package.validate()
    if not report.valid:
        raise _first_error(report, tables, source_path, directory)
    rows = sum(task.stats.get("rows") or 0 for task in report.tasks)
    return ValidationSummary(len(report.tasks), rows)


def _first_error(report, tables: Tables | None, source_path: str | None, directory: Path) -> KehoachError:
    for task in report.tasks:
        for error in task.errors:
            resource = task.name or "?"
            table_name = resource.removesuffix(PARQUET_SUFFIX)
            row_number = getattr(error, "row_number", None)
            line = None
            if tables is not None and row_number and table_name in tables:
                table = tables[table_name]
                index = row_number - 2  # Frictionless counts the header as row 1
                if "source_line" in table.column_names and 0 <= index < table.num_rows:
                    line = table.column("source_line")[index].as_py()
            where = source_path if line else str(directory / DESCRIPTOR)
            total = sum(len(t.errors) for t in report.tasks)
            return KehoachError(
                f"package is invalid ({total} error(s)); first: resource {resource!r}: {error.title}: {error.note}",
                where,
                line,
            )
    return KehoachError("package is invalid", directory / DESCRIPTOR)
