"""The table model: Table Schemas in ``schemas/`` turned into typed Arrow tables.

Stages exchange ``Tables`` (resource name -> ``pyarrow.Table``). Rows are
collected with ``TableBuilder``, which refuses fields the schema does not
declare, so the schema stays the single source of truth for every column.
Numbers are exact decimals (``decimal128``) with the precision and scale
the schema declares; dates are ``date32``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal, localcontext
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from kehoach.core.errors import KehoachError
from kehoach.core.paths import SCHEMAS_DIR

Tables = dict[str, pa.Table]


def record_batches(tables: Mapping[str, pa.Table], name: str) -> pa.RecordBatchReader:
    """The rows of ``tables[name]`` a record batch at a time, read anew at each call. A corpus's table on disk
    (``kehoach.parse.corpus_tables``) gives each batch mapped on its own, let go when dropped: a step that reads
    a table through holds one batch's pages, not the table's."""
    read = getattr(tables, "batches", None)
    return read(name) if callable(read) else tables[name].to_reader()


def queried(tables: Mapping[str, pa.Table], name: str) -> object:
    """What DuckDB is given to query ``tables[name]`` as often as it likes: the table, or, for a corpus's table on
    disk (``kehoach.parse.corpus_tables``), a stream of its batches read anew at each scan."""
    read = getattr(tables, "scanned", None)
    return read(name) if callable(read) else tables[name]


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


@cache  # the schemas are read once (``_schemas``); an Arrow schema is immutable
def arrow_schema(name: str) -> pa.Schema:
    return arrow_schema_of(load_schema(name))


def arrow_schema_of(schema: dict) -> pa.Schema:
    """The Arrow schema a Table Schema declares: types, decimal precision, required fields non-null."""
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


@cache
def money_digits(directory: Path = SCHEMAS_DIR) -> tuple[int, int]:
    """(digits before the point, decimals) every number field of the schemas holds:
    the tightest ``decimalPrecision``/``decimalScale`` declared."""
    specs = [arrow_type(f) for name in resource_names(directory) for f in load_schema(name, directory)["fields"]
             if f.get("type") == "number"]
    return min(t.precision - t.scale for t in specs), min(t.scale for t in specs)


def _quantize(value: Any, kind: pa.Decimal128Type) -> Any:
    """A Decimal as the column stores it; refused (not rounded) when it does not fit."""
    if not isinstance(value, Decimal):
        return value
    if not value.is_finite() or (value != 0 and value.adjusted() >= kind.precision - kind.scale):
        raise KehoachError(f"amount {value} has more than {kind.precision - kind.scale} digits before the point")
    if value.as_tuple().exponent >= -kind.scale:  # no more decimals than the column: Arrow stores it exactly
        return value
    with localcontext(prec=kind.precision + 1):
        q = value.quantize(Decimal(1).scaleb(-kind.scale), rounding=ROUND_DOWN)
    if q != value:
        raise KehoachError(f"amount {value} has more than {kind.scale} decimals")
    return q


def _fits(value: Any, kind: pa.DataType) -> Any:
    """Check one value against its column type (the Arrow error would name no row)."""
    if pa.types.is_decimal(kind):
        return _quantize(value, kind)
    if pa.types.is_integer(kind) and isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise KehoachError(f"number {value if len(str(value)) < 30 else '…'} is too large (64-bit integer column)")
    if pa.types.is_date(kind) and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise KehoachError(f"not an ISO date: {value!r}") from None
    return value


@dataclass
class TableBuilder:
    """Collects rows of one resource (checked against the schema when typed, ``rows_to_arrow``)."""

    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._fields = field_names(self.name)
        self._known = set(self._fields)

    def add(self, **values: Any) -> None:
        if not self._known.issuperset(values):  # no set built per row
            unknown = set(values) - self._known
            raise KehoachError(f"{self.name}: fields not in schemas/{self.name}.schema.json: {sorted(unknown)}")
        self.rows.append(values)

    def add_row(self, row: dict[str, Any]) -> None:
        """``add(**row)`` without copying ``row`` (which the builder then owns: ordinals are filled in)."""
        if not self._known.issuperset(row):
            self.add(**row)  # raises, naming the unknown fields
        self.rows.append(row)

    def add_rows(self, rows: list[dict[str, Any]]) -> None:
        """``add_row`` for each of ``rows``, their fields checked in one pass (a related list's thousands)."""
        if not self._known.issuperset(set().union(*rows)):
            for row in rows:
                self.add_row(row)  # raises at the first row with an unknown field
        self.rows.extend(rows)


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
    """The rows as an Arrow table of the resource's schema. Arrow converts them
    in one call and refuses whatever the schema cannot hold exactly (too many
    digits or decimals, an integer over 64 bits, text for a date); only then
    are the rows read again one by one, to convert ISO dates and to name the
    row and what is wrong with it."""
    schema = arrow_schema(name)
    if not rows:
        return schema.empty_table()
    try:
        table = pa.Table.from_pylist(rows, schema=schema)
    except (ValueError, TypeError, ArithmeticError):  # Arrow's errors, and Python's on hostile numbers
        return _rows_to_arrow_checked(name, schema, rows)
    if any(not f.nullable and table.column(i).null_count for i, f in enumerate(schema)):
        return _rows_to_arrow_checked(name, schema, rows)
    return table


def _rows_to_arrow_checked(name: str, schema: pa.Schema, rows: list[dict[str, Any]]) -> pa.Table:
    columns = []
    for f in schema:
        column = f.name  # an Arrow field makes a new str per .name: once per column, not per row
        values = [r.get(column) for r in rows]
        if not f.nullable and None in values:
            row = rows[values.index(None)]
            raise KehoachError(
                f"{name}: required field {f.name!r} is empty", line=row.get("source_line")
            )
        if _needs_checks(f.type, values):
            values = [v if v is None else _checked(name, f, v, row) for v, row in zip(values, rows, strict=True)]
        try:
            columns.append(pa.array(values, type=f.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise KehoachError(f"{name}.{f.name}: {exc}") from None
    return pa.Table.from_arrays(columns, schema=schema)


def _needs_checks(kind: pa.DataType, values: list[Any]) -> bool:
    """Whether a column's values need ``_fits``: decimals always; integers and dates only when
    one would be refused or converted (one pass in C-speed builtins instead of a call per value)."""
    if pa.types.is_decimal(kind):
        return True
    if pa.types.is_integer(kind):
        ints = [v for v in values if isinstance(v, int)]
        return bool(ints) and not (min(ints) >= -(2**63) and max(ints) < 2**63)
    if pa.types.is_date(kind):
        return any(isinstance(v, str) for v in values)
    return False


def _checked(name: str, f: pa.Field, value: Any, row: dict[str, Any]) -> Any:
    """``_fits``, with the error located on the row's source line."""
    try:
        return _fits(value, f.type)
    except KehoachError as exc:
        raise KehoachError(f"{name}.{f.name}: {exc.message}", line=row.get("source_line")) from None


def empty_tables() -> Tables:
    return {name: arrow_schema(name).empty_table() for name in resource_names()}


def concat(parts: list[Tables], rechunk: bool = True) -> Tables:
    """Union of several plans' tables; shared code lists are de-duplicated by key.
    The parts are emptied as their tables are combined: a corpus is held once
    and one table, not twice. ``rechunk``: each column made one chunk (for
    parts of a plan each; parts already one chunk a column are joined as they are)."""
    out: Tables = {}
    for name in resource_names():
        tables = [p.pop(name) for p in parts if name in p]
        if not tables:
            out[name] = arrow_schema(name).empty_table()
            continue
        table = pa.concat_tables(tables)
        pk = shared_key(name)
        if pk:
            table = first_per_key(table, pk, set())
        # one chunk per column: DuckDB scans a table of a thousand one-plan
        # chunks several times slower than the same rows in one
        out[name] = table.combine_chunks() if rechunk else table
    return out


def shared_key(name: str) -> list[str] | None:
    """The key of a code list the plans share (documents, agencies: a primary key without
    ``plan_id``), whose rows a corpus keeps once; None for a plan's own table."""
    pk = primary_key(name)
    return pk if pk and "plan_id" not in pk else None


def first_per_key(table: pa.Table, pk: list[str], seen: set[tuple]) -> pa.Table:
    """The rows of ``table`` whose key is not in ``seen`` (nor an earlier row's), the first of each
    kept; ``seen`` learns their keys (a corpus written a batch at a time passes the same set)."""
    keep = []
    for i, key in enumerate(zip(*(table.column(k).to_pylist() for k in pk), strict=True)):
        if key not in seen:
            seen.add(key)
            keep.append(i)
    return table if len(keep) == table.num_rows else table.take(pa.array(keep, type=pa.int64()))
