"""The new tables against the package in place: which rows changed, and the version they make.

A step of the build (``kehoach.build``): of the plans whose source and parser did not change, the
rows their parse cache entries gave are not compared again (``incremental``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kehoach.core.model import Tables, load_schema, resource_meta, resource_names
from kehoach.core.settings import changed_settings
from kehoach.package.constraints import RowScope
from kehoach.package.layout import RecordedFiles, current_descriptor, parquet_path
from kehoach.package.plan_rows import Runs, narrowed, runs_in_place
from kehoach.read import source_urls as addresses
from kehoach.read.sources import SourceRecord
from kehoach.versions import incremental, versioning
from kehoach.versions.diff import PackageSnapshot, diff_tables, load_package, summary


@dataclass
class Comparison:
    """The new tables against the package in place: the version they make."""

    decision: versioning.VersionDecision
    changes: list[dict]
    previous_descriptor: dict | None = None
    settings_changed: tuple[str, ...] = ()  # variables whose value differs from the last build's
    addresses_changed: tuple[str, ...] = ()  # 'file → URL': texts whose published address changed
    scope: RowScope | None = None  # the rows the validation checks (the plans compared; None: all)

    @classmethod
    def first(cls) -> Comparison:
        """Nothing in place: the first version, with an empty changelog."""
        return cls(versioning.decide_data_level(None, [], []), [])

    def summaries(self) -> tuple[str, str] | None:
        """(vi, en) one-paragraph change summaries; None for a first version."""
        d = self.decision
        if d.previous is None:
            return None
        vi_note, en_note = versioning.change_notes(self.settings_changed, self.addresses_changed)
        if d.level == "patch":
            return (f"Phiên bản {d.version} (thay cho {d.previous}): chỉ sửa mô tả (metadata), dữ liệu không đổi."
                    + vi_note,
                    f"Version {d.version} (replaces {d.previous}): descriptive metadata only, data unchanged."
                    + en_note)
        return (summary(self.changes, d.version, d.previous, "vi") + vi_note,
                summary(self.changes, d.version, d.previous, "en") + en_note)


def current_schemas() -> tuple[dict[str, dict], set[str]]:
    names = resource_names()
    return {n: load_schema(n) for n in names}, {n for n in names if resource_meta(n).get("derived")}


def compare(tables: Tables, out: Path, sources: list[SourceRecord] | None = None) -> Comparison:
    """Diff ``tables`` (from ``sources``: their addresses too) with the package in ``out`` and decide the
    new version; of the plans whose source and parser did not change, the rows their entries gave are not
    compared (``incremental``)."""
    if current_descriptor(out) is None:
        return Comparison.first()
    schemas, derived = current_schemas()
    scope = incremental.scope(tables["plans"], out, derived)  # None: every row compared (and validated)
    previous: PackageSnapshot = load_package(out, scope.plans if scope else None, scope.tables if scope else (),
                                             _recorded_runs(out) if scope else None)
    new = narrowed(tables, scope)
    restructured = versioning.structural_changes(previous.schemas, schemas)
    changes = diff_tables(previous.tables, new, schemas, derived | previous.derived)
    decision = versioning.decide_data_level(previous.version, restructured, changes)
    settings = changed_settings(versioning.read_state(out).get("settings"), versioning.package_settings())
    return Comparison(decision, changes, previous.descriptor, tuple(settings),
                      addresses.changed(previous.descriptor, sources or []), scope)


def _recorded_runs(out: Path) -> dict[str, Runs]:
    """The runs of rows by plan recorded with the Parquet files in ``out`` that are still the files recorded
    (their rows where the runs say: ``kehoach.package.plan_rows``)."""
    recorded = RecordedFiles(out)
    return {name: runs for name, runs in runs_in_place(out).items() if recorded.holds(parquet_path(name))}
