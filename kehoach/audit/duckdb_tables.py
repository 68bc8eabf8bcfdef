"""The package's tables in DuckDB, typed and constrained as their Table Schemas say.

Tables are loaded straight from the Arrow tables the stages exchange (no CSV
round-trip): one real table per resource with ``DECIMAL`` money, ``DATE``
dates, ``NOT NULL``, enum checks, primary and foreign keys; then the views
and macros of ``kehoach/audit/views.sql``. The audit runs over such a
database in memory; ``kehoach.package.database`` writes the same to the file
shipped with the package.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import duckdb

from kehoach.core.model import Tables, load_schema, primary_key, queried, record_batches, resource_names
from kehoach.core.paths import VIEWS_SQL

_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "boolean": "BOOLEAN", "date": "DATE",
          "datetime": "TIMESTAMPTZ", "year": "INTEGER"}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def column_type(spec: dict) -> str:
    if spec.get("type") == "number":
        return f"DECIMAL({spec.get('decimalPrecision', 20)}, {spec.get('decimalScale', 6)})"
    return _TYPES[spec.get("type", "string")]


# --- tables --------------------------------------------------------------------

def foreign_keys(name: str, present: set[str]) -> list[tuple[list[str], str, list[str]]]:
    """Foreign keys DuckDB can enforce: those pointing at the whole primary key of a
    table in the database. A key given without the plan (``pillar`` -> ``pillar_id``)
    is completed with ``plan_id`` when that makes it the referenced primary key."""
    keys = []
    fields = {f["name"] for f in load_schema(name)["fields"]}
    for fk in load_schema(name).get("foreignKeys", []):
        ref = fk["reference"]["resource"]
        if ref not in present or ref == name:
            continue
        mine, theirs, target = list(fk["fields"]), list(fk["reference"]["fields"]), primary_key(ref)
        if set(theirs) != set(target) and "plan_id" in fields and set(["plan_id", *theirs]) == set(target):
            mine, theirs = ["plan_id", *mine], ["plan_id", *theirs]
        if set(theirs) == set(target):
            keys.append((mine, ref, theirs))
    return keys


def create_table_sql(name: str, present: set[str]) -> str:
    schema = load_schema(name)
    parts = []
    for f in schema["fields"]:
        constraints = f.get("constraints", {})
        column = f"{quote(f['name'])} {column_type(f)}"
        if constraints.get("required"):
            column += " NOT NULL"
        if "enum" in constraints:
            column += f" CHECK ({quote(f['name'])} IN ({', '.join(literal(str(v)) for v in constraints['enum'])}))"
        parts.append(column)
    if primary_key(name):
        parts.append(f"PRIMARY KEY ({', '.join(quote(k) for k in primary_key(name))})")
    for mine, ref, theirs in foreign_keys(name, present):
        parts.append(f"FOREIGN KEY ({', '.join(quote(k) for k in mine)}) "
                     f"REFERENCES {quote(ref)} ({', '.join(quote(k) for k in theirs)})")
    return f"CREATE TABLE {quote(name)} (\n    " + ",\n    ".join(parts) + "\n)"


def load_order(names: Iterable[str]) -> list[str]:
    """Resources in schema order, each after the tables its foreign keys point at."""
    names = list(names)
    present, done, ordered = set(names), set(), []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done or name in path:
            return
        for _, ref, _ in foreign_keys(name, present):
            visit(ref, (*path, name))
        done.add(name)
        ordered.append(name)

    for name in names:
        visit(name, ())
    return ordered


def attach_tables(con: duckdb.DuckDBPyConnection, tables: Tables, attached: dict | None = None,
                  by_batches: bool = False) -> dict:
    """Each table readable in ``con`` under its resource name, without a copy: the audit and the landing page
    only query them (copying a corpus's tables into DuckDB cost more than running every rule on them). Given
    what was ``attached`` before, a table looked up as the same object is not attached again (a corpus's
    large tables are mapped anew each lookup: kehoach.parse.corpus_tables). ``by_batches``: a corpus's large
    table is read anew at each scan, a record batch at a time (``core.model.queried``): the pages a query
    reads are not held for as long as the table is attached, but a scan is not shared by DuckDB's threads."""
    attached = {} if attached is None else attached
    for name in tables:
        table = queried(tables, name) if by_batches else tables[name]
        if attached.get(name) is not table:
            con.register(name, table)
            attached[name] = table
    return attached


class ConstraintsBroken(Exception):
    """A table's rows break the constraints of its Table Schema (``load_tables``)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"table {name}: {message}")
        self.name = name
        self.message = message


def load_tables(con: duckdb.DuckDBPyConnection, tables: Tables, unconstrained: Collection[str] = ()) -> None:
    """One DuckDB table per resource, declared from its Table Schema (types,
    NOT NULL, enums, primary and foreign keys) and filled from its Arrow table;
    those named in ``unconstrained`` (and foreign keys pointing at them) without
    their constraints.

    The database never decides whether data is valid: that is the
    validation's job, which reports the offending source line. A table
    whose rows break its constraints raises ``ConstraintsBroken`` (a failed
    statement ends the caller's transaction): the caller loads again with that
    table unconstrained.
    """
    constrained: set[str] = set()
    for name in load_order(loaded_names(tables)):
        load_table(con, tables, name, constrained, unconstrained)


def loaded_names(tables: Tables) -> list[str]:
    """The resources of ``tables`` in schema order, then any other table by name."""
    known = set(resource_names())
    return [n for n in resource_names() if n in tables] + sorted(n for n in tables if n not in known)


def load_table(con: duckdb.DuckDBPyConnection, tables: Tables, name: str, constrained: set[str],
               unconstrained: Collection[str] = ()) -> None:
    """The table ``name`` of ``tables`` (``load_tables``), after the ``constrained`` tables its foreign keys may
    point at; added to them when its constraints are declared."""
    view = f"_arrow_{name}"
    # read once, a record batch at a time (a corpus's table: one batch's pages held, not the table's); read
    # anew and registered again (replaced) when the caller loads again
    rows = record_batches(tables, name)
    con.register(view, rows)
    if name in set(resource_names()) and name not in unconstrained:
        try:
            _create_constrained(con, name, view, rows.schema.names, constrained)
        except duckdb.ConstraintException as exc:  # the transaction is aborted: no statement until rolled back
            raise ConstraintsBroken(name, " ".join(str(exc).split())) from None
        constrained.add(name)
    else:
        con.execute(f"CREATE TABLE {quote(name)} AS SELECT * FROM {quote(view)}")
    con.unregister(view)


def _create_constrained(con, name: str, view: str, columns: list[str], constrained: set[str]) -> None:
    con.execute(create_table_sql(name, constrained))
    listed = ", ".join(quote(c) for c in columns)
    con.execute(f"INSERT INTO {quote(name)} ({listed}) SELECT {listed} FROM {quote(view)}")


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(VIEWS_SQL.read_text(encoding="utf-8"))
