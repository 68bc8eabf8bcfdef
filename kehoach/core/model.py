"""The table model: Table Schemas in ``schemas/`` turned into typed Arrow tables.

Stages exchange ``Tables`` (resource name -> ``pyarrow.Table``). Rows are
collected with ``TableBuilder``, which refuses fields the schema does not
declare, so the schema stays the single source of truth for every column.
Numbers are exact decimals (``decimal128``) with the precision and scale
the schema declares; dates are ``date32``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from kehoach.core.errors import KehoachError
from kehoach.core.paths import SCHEMAS_DIR

Tables = dict[str, pa.Table]


@cache
def package_descriptor(directory: Path = SCHEMAS_DIR) -> dict:
    """Package-level metadata (licence, keywords, …) from ``schemas/package.json``."""
    return json.loads((directory / "package.json").read_text(encoding="utf-8"))


@cache
def _schemas(directory: Path = SCHEMAS_DIR) -> dict[str, dict]:
    found = {}
    for path in directory.glob("*.schema.json"):
        try:
            found[path.name.removesuffix(".schema.json")] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise KehoachError(f"invalid JSON: {exc}", path, exc.lineno) from None
    return found


def resource_names(directory: Path = SCHEMAS_DIR) -> list[str]:
    """Every ``schemas/<name>.schema.json`` is a resource, in the order its
    ``resource.order`` gives (adding a resource is adding one file)."""
    schemas = _schemas(directory)
    return sorted(schemas, key=lambda n: (schemas[n].get("resource", {}).get("order", 1000), n))


def resource_meta(name: str, directory: Path = SCHEMAS_DIR) -> dict:
    """Bilingual title and description of a resource (the schema's ``resource`` block)."""
    return table_schema_file(name, directory).get("resource", {})


def table_schema_file(name: str, directory: Path = SCHEMAS_DIR) -> dict:
    schemas = _schemas(directory)
    if name not in schemas:
        raise KehoachError("no Table Schema for this resource", directory / f"{name}.schema.json")
    return schemas[name]


def load_schema(name: str, directory: Path = SCHEMAS_DIR) -> dict:
    """The Table Schema proper (without the resource-level block)."""
    return {k: v for k, v in table_schema_file(name, directory).items() if k != "resource"}


def arrow_type(spec: dict) -> pa.DataType:
    kind = spec.get("type", "string")
    if kind == "number":
        return pa.decimal128(spec.get("decimalPrecision", 20), spec.get("decimalScale", 6))
    return {
        "string": pa.string(),
        "integer": pa.int64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "datetime": pa.timestamp("s", tz="UTC"),
        "year": pa.int32(),
    }[kind]


def arrow_schema(name: str) -> pa.Schema:
    schema = load_schema(name)
    return pa.schema(
        [
            pa.field(f["name"], arrow_type(f), nullable=not f.get("constraints", {}).get("required", False))
            for f in schema["fields"]
        ]
    )


def field_names(name: str) -> list[str]:
    return [f["name"] for f in load_schema(name)["fields"]]


def primary_key(name: str) -> list[str]:
    pk = load_schema(name).get("primaryKey", [])
    return [pk] if isinstance(pk, str) else list(pk)


def _quantize(value: Any, scale: int) -> Any:
    if isinstance(value, Decimal):
        q = value.quantize(Decimal(1).scaleb(-scale))
        if q != value:
            raise KehoachError(f"amount {value} has more than {scale} decimals")
        return q
    return value


@dataclass
class TableBuilder:
    """Collects rows of one resource; ``to_arrow`` checks them against the schema."""

    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._fields = field_names(self.name)
        self._known = set(self._fields)

    def add(self, **values: Any) -> None:
        unknown = set(values) - self._known
        if unknown:
            raise KehoachError(f"{self.name}: fields not in schemas/{self.name}.schema.json: {sorted(unknown)}")
        self.rows.append(values)

    def to_arrow(self) -> pa.Table:
        return rows_to_arrow(self.name, with_ordinals(self.name, self.rows))


def with_ordinals(name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill fields the schema declares as ordinals: ``"ordinal": {"within":
    [fields], "by": field}`` numbers the distinct values of ``by`` 1, 2, …
    within each group. Keys built on them stay put when lines are inserted
    elsewhere in the text, unlike keys built on source lines."""
    for spec in load_schema(name)["fields"]:
        ordinal = spec.get("ordinal")
        if not ordinal:
            continue
        seen: dict[tuple, dict[Any, int]] = {}
        for row in sorted(rows, key=lambda r: r.get(ordinal["by"]) or 0):
            numbers = seen.setdefault(tuple(row.get(k) for k in ordinal["within"]), {})
            row[spec["name"]] = numbers.setdefault(row.get(ordinal["by"]), len(numbers) + 1)
    return rows


def rows_to_arrow(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = arrow_schema(name)
    columns = []
    for f in schema:
        values = [r.get(f.name) for r in rows]
        if not f.nullable and None in values:
            row = rows[values.index(None)]
            raise KehoachError(
                f"{name}: required field {f.name!r} is empty", line=row.get("source_line")
            )
        if pa.types.is_decimal(f.type):
            values = [_quantize(v, f.type.scale) for v in values]
        if pa.types.is_date(f.type):
            values = [v if v is None or isinstance(v, date) else date.fromisoformat(v) for v in values]
        try:
            columns.append(pa.array(values, type=f.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise KehoachError(f"{name}.{f.name}: {exc}") from None
    table = pa.Table.from_arrays(columns, schema=schema) if rows else schema.empty_table()
    return table


def empty_tables() -> Tables:
    return {name: arrow_schema(name).empty_table() for name in resource_names()}


def concat(parts: list[Tables]) -> Tables:
    """Union of several plans' tables; shared code lists are de-duplicated by key."""
    out: Tables = {}
    for name in resource_names():
        tables = [p[name] for p in parts if name in p]
        if not tables:
            out[name] = arrow_schema(name).empty_table()
            continue
        table = pa.concat_tables(tables)
        pk = primary_key(name)
        if pk and "plan_id" not in pk:  # code lists shared by plans (documents, agencies)
            table = _first_per_key(table, pk)
        out[name] = table
    return out


def _first_per_key(table: pa.Table, pk: list[str]) -> pa.Table:
    seen: set[tuple] = set()
    keep = []
    keys = list(zip(*(table.column(k).to_pylist() for k in pk), strict=False))
    for i, k in enumerate(keys):
        if k not in seen:
            seen.add(k)
            keep.append(i)
    return table.take(pa.array(keep, type=pa.int64()))
