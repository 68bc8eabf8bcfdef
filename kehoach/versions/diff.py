"""Changelog between two versions of a package, computed in DuckDB on primary keys.

For every table present in both versions, rows are matched on the primary
key: keys only in the new version are 'added', keys only in the old one
'removed', and matched rows whose fields differ give one 'changed' row per
field with the old and new value. Provenance fields (``"provenance": true``
in the schema: source lines, source hashes) are not compared, so a line
inserted near the top of the text does not mark every later row as changed.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from kehoach.core.errors import KehoachError
from kehoach.core.model import Tables, rows_to_arrow
from kehoach.package.csv_file import csv_value
from kehoach.package.layout import DESCRIPTOR, csv_schemas, package_dir, read_descriptor, table_resources
from kehoach.package.plan_rows import Runs, read_plans

CHANGES = "changes"


@dataclass
class PackageSnapshot:
    """A package as read back from disk: its descriptor and its tables."""

    directory: Path
    descriptor: dict
    tables: Tables
    schemas: dict[str, dict] = field(default_factory=dict)
    derived: set[str] = field(default_factory=set)

    @property
    def version(self) -> str:
        return str(self.descriptor.get("version", ""))


def load_package(path: str | Path, plans: Collection[str] | None = None,
                 narrowed: Collection[str] = (), runs: Mapping[str, Runs] | None = None) -> PackageSnapshot:
    """Read a package directory (or its datapackage.json) written by kehoach; of the tables
    ``narrowed``, only the rows of ``plans`` (when given): of a table whose ``runs`` of rows by plan are
    known, from the row groups holding them (``kehoach.package.plan_rows``)."""
    directory = package_dir(path)
    if not (directory / DESCRIPTOR).exists():
        raise KehoachError(f"no {DESCRIPTOR} here", directory)
    descriptor = read_descriptor(directory)
    declared = csv_schemas(descriptor)
    schemas = {name: r["schema"] for name, r in declared.items()}
    derived = {name for name, r in declared.items() if r.get("derived")}
    tables: Tables = {}
    for name, resource in table_resources(descriptor).items():
        table_path = directory / resource["path"]
        if not table_path.exists():
            raise KehoachError("resource file is missing", table_path)
        if plans is not None and name in narrowed:
            tables[name] = read_plans(table_path, plans, (runs or {}).get(name))
        else:
            tables[name] = pq.read_table(table_path)
    return PackageSnapshot(directory, descriptor, tables, schemas, derived)


def _pk(schema: dict) -> list[str]:
    pk = schema.get("primaryKey", [])
    return [pk] if isinstance(pk, str) else list(pk)


def _provenance(schema: dict) -> set[str]:
    return {f["name"] for f in schema.get("fields", []) if f.get("provenance")}


def _key(row: dict, pk: list[str]) -> str:
    return json.dumps({k: csv_value(row[k]) for k in pk}, ensure_ascii=False)


def diff_tables(
    old: Tables,
    new: Tables,
    schemas: dict[str, dict],
    derived: set[str] | frozenset[str] = frozenset(),
) -> list[dict]:
    """Change rows (without version numbers) from ``old`` to ``new``.

    ``schemas`` gives each table's Table Schema (primary key, provenance
    fields); tables without a primary key are compared as wholes.
    """
    changes: list[dict] = []
    con = duckdb.connect()
    try:
        for name in sorted(set(old) | set(new)):
            if name == CHANGES:
                continue
            is_derived = name in derived
            if name not in old:
                changes.append(_structural(name, "resource_added", None, is_derived))
                continue
            if name not in new:
                changes.append(_structural(name, "resource_removed", None, is_derived))
                continue
            changes += _diff_one(con, name, old[name], new[name], schemas.get(name, {}), is_derived)
    finally:
        con.close()
    return changes


def _structural(resource: str, change: str, field_name: str | None, derived: bool) -> dict:
    return dict(resource=resource, change=change, row_key=None, field=field_name, old_value=None, new_value=None,
                plan_id=None, derived=derived, source_line=None, old_source_line=None)


def _diff_one(con, name: str, old: pa.Table, new: pa.Table, schema: dict, derived: bool) -> list[dict]:
    changes = []
    old_fields, new_fields = set(old.column_names), set(new.column_names)
    for f in sorted(new_fields - old_fields):
        changes.append(_structural(name, "field_added", f, derived))
    for f in sorted(old_fields - new_fields):
        changes.append(_structural(name, "field_removed", f, derived))
    pk = [k for k in _pk(schema) if k in old_fields and k in new_fields]
    if not pk:
        raise KehoachError(f"table {name!r} has no primary key common to both versions; cannot compare")
    provenance = _provenance(schema)
    if _same_rows(old, new, provenance):  # most tables of a new version (a query each cost more than the table)
        return changes
    compared = [c for c in new.column_names if c in old_fields and c not in pk and c not in provenance]
    con.register("old_t", old)
    con.register("new_t", new)
    on = " AND ".join(f'o."{k}" = n."{k}"' for k in pk)
    try:
        added = con.sql(f"SELECT n.* FROM new_t n ANTI JOIN old_t o ON {on}").to_arrow_table().to_pylist()
        removed = con.sql(f"SELECT o.* FROM old_t o ANTI JOIN new_t n ON {on}").to_arrow_table().to_pylist()
        for row in added:
            changes.append(_row_change(name, "added", row, pk, derived, new_line=row.get("source_line")))
        for row in removed:
            changes.append(_row_change(name, "removed", row, pk, derived, old_line=row.get("source_line")))
        # the matched rows where any compared field differs, in one join; each field's changes from them
        # (a join a field cost seconds a corpus when one plan changed)
        pairs = con.sql(_differing_rows(old, new, pk, compared, on)).to_arrow_table()
        con.register("pair_t", pairs)
        for i, f in enumerate(compared if pairs.num_rows else ()):  # no pair differs: no field query
            lines = ", _new_line, _old_line" if "_new_line" in pairs.column_names else ""
            query = (f'SELECT {", ".join(_q(k) for k in pk)}, _o{i} AS _old, _n{i} AS _new{lines} FROM pair_t '
                     f"WHERE {_distinct(old, new, f, f'_o{i}', f'_n{i}')}")
            for row in con.sql(query).to_arrow_table().to_pylist():
                change = _row_change(name, "changed", row, pk, derived,
                                     new_line=row.get("_new_line"), old_line=row.get("_old_line"))
                change.update(field=f, old_value=csv_value(row["_old"]) or None,
                              new_value=csv_value(row["_new"]) or None)
                changes.append(change)
    finally:
        for view in ("old_t", "new_t", "pair_t"):
            con.unregister(view)
    return changes


def _same_rows(old: pa.Table, new: pa.Table, provenance: set[str]) -> bool:
    """The same fields and the same rows in the same order, provenance aside: nothing to compare."""
    if old.column_names != new.column_names or old.num_rows != new.num_rows:
        return False
    kept = [c for c in new.column_names if c not in provenance]
    return old.select(kept).equals(new.select(kept))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _distinct(old: pa.Table, new: pa.Table, f: str, o_expr: str, n_expr: str) -> str:
    """``o_expr`` and ``n_expr`` (field ``f``) differ: typed values, or text when the type itself changed."""
    if old.schema.field(f).type != new.schema.field(f).type:
        o_expr, n_expr = f"CAST({o_expr} AS VARCHAR)", f"CAST({n_expr} AS VARCHAR)"
    return f"{o_expr} IS DISTINCT FROM {n_expr}"


def _differing_rows(old: pa.Table, new: pa.Table, pk: list[str], compared: list[str], on: str) -> str:
    """The matched rows where a compared field differs: their key, each field's old and new value
    (``_o<i>``, ``_n<i>``), their source lines."""
    values = [f'o.{_q(f)} AS _o{i}, n.{_q(f)} AS _n{i}' for i, f in enumerate(compared)]
    if "source_line" in set(new.column_names) & set(old.column_names):
        values.append("n.source_line AS _new_line, o.source_line AS _old_line")
    differs = " OR ".join(_distinct(old, new, f, f"o.{_q(f)}", f"n.{_q(f)}") for f in compared) or "false"
    return (f'SELECT {", ".join(f"n.{_q(k)}" for k in pk)}{"".join(", " + v for v in values)} '
            f"FROM old_t o JOIN new_t n ON {on} WHERE {differs}")


def _row_change(resource: str, change: str, row: dict, pk: list[str], derived: bool,
                new_line: int | None = None, old_line: int | None = None) -> dict:
    return dict(resource=resource, change=change, row_key=_key(row, pk), field=None, old_value=None, new_value=None,
                plan_id=row.get("plan_id"), derived=derived, source_line=new_line, old_source_line=old_line)


def number_changes(changes: list[dict], version: str, previous: str) -> pa.Table:
    """The ``changes`` resource for ``version``."""
    rows = [dict(version=version, change_no=i, previous_version=previous, **c) for i, c in enumerate(changes, 1)]
    return rows_to_arrow(CHANGES, rows)


# --- summaries ---------------------------------------------------------------

_WORDS_EN = {"added": "added", "removed": "removed", "changed": "changed", "resource_added": "new table",
             "resource_removed": "table removed", "field_added": "field(s) added", "field_removed": "field(s) removed"}
_WORDS_VI = {"added": "thêm", "removed": "bớt", "changed": "sửa", "resource_added": "bảng mới",
             "resource_removed": "bỏ bảng", "field_added": "trường thêm", "field_removed": "trường bỏ"}


def counts_by_resource(changes: list[dict]) -> dict[str, dict[str, int]]:
    """resource -> {'added': n, 'removed': n, 'changed': n rows, ...}."""
    out: dict[str, dict[str, int]] = {}
    changed_rows: dict[str, set[str]] = {}
    for c in changes:
        bucket = out.setdefault(c["resource"], {})
        if c["change"] == "changed":
            changed_rows.setdefault(c["resource"], set()).add(c["row_key"])
            bucket["changed"] = len(changed_rows[c["resource"]])
        else:
            bucket[c["change"]] = bucket.get(c["change"], 0) + 1
    return out


def summary(changes: list[dict], version: str | None = None, previous: str | None = None,
            language: str = "en") -> str:
    """One paragraph: what changed, document tables first, derived tables after."""
    words = _WORDS_EN if language == "en" else _WORDS_VI
    counts = counts_by_resource(changes)
    derived = {c["resource"] for c in changes if c["derived"]}

    def part(resources: list[str]) -> str:
        items = []
        for r in resources:
            bits = [words[k] if k.startswith("resource_") else f"{n} {words[k]}" for k, n in sorted(counts[r].items())]
            items.append(f"{r}: {', '.join(bits)}")
        return "; ".join(items)

    main = part([r for r in sorted(counts) if r not in derived])
    side = part([r for r in sorted(counts) if r in derived])
    if language == "en":
        head = f"Version {version} (replaces {previous}): " if version else ""
        text = head + (main or "no change to the document's tables")
        return text + (f". Audit and other derived tables: {side}." if side else ".")
    head = f"Phiên bản {version} (thay cho {previous}): " if version else ""
    text = head + (main or "không thay đổi dữ liệu của văn bản")
    return text + (f". Bảng suy ra (kết quả kiểm tra…): {side}." if side else ".")


def details(changes: list[dict], include_derived: bool = True) -> list[str]:
    """One human-readable line per change."""
    lines = []
    for c in changes:
        if c["derived"] and not include_derived:
            continue
        key = ""
        if c["row_key"]:
            key = ", ".join(f"{k}={v}" for k, v in json.loads(c["row_key"]).items() if k != "plan_id")
        line = c["source_line"] or c["old_source_line"]
        where = f" (line {line})" if line else ""
        if c["change"] == "changed":
            lines.append(f"{c['resource']} [{key}] {c['field']}: {c['old_value']!r} → {c['new_value']!r}{where}")
        elif c["row_key"]:
            lines.append(f"{c['resource']} [{key}] {c['change']}{where}")
        else:
            lines.append(f"{c['resource']}: {c['change']}" + (f" {c['field']}" if c["field"] else ""))
    return lines
