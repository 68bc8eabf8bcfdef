"""Table Schema constraints compiled into DuckDB queries.

Each CSV resource is read once into DuckDB (every cell as text, as
Frictionless reads it) and checked in one aggregate pass for its row-level
rules (types, required, enum, pattern, minimum/maximum, lengths), then with
one query per key (unique fields, primary key, foreign keys). The verdicts
are Frictionless's: ``tests/package/test_constraints.py`` breaks every kind
of constraint and compares with ``frictionless`` itself, which stays the
reference (and ``frictionless validate datapackage.json`` passes on every
package). What the compiler does not know (another type, format or
constraint) is refused, rather than silently not checked.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from kehoach.core.duckdb_memory import bounded, spill_dir
from kehoach.core.errors import KehoachError
from kehoach.package.scoped_rows import ScopedRows, read_in_part, within_plans

TRUE_VALUES = ["true", "True", "TRUE", "1"]
FALSE_VALUES = ["false", "False", "FALSE", "0"]
KNOWN_CONSTRAINTS = {"required", "unique", "enum", "pattern", "minimum", "maximum", "minLength", "maxLength"}
# The fields that locate a failing row in its plan's source.
LOCATING = ("source_line", "plan_id")


@dataclass(frozen=True)
class Violation:
    resource: str
    kind: str  # as Frictionless names its errors: type-error, constraint-error, primary-key, …
    note: str
    count: int
    row: int | None = None  # CSV row, the header being row 1 (as Frictionless counts)
    source_line: int | None = None
    plan_id: str | None = None


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _cell(spec: dict, missing: list[str]) -> str:
    """The cell as text, NULL when it is a missing value."""
    return f"CASE WHEN {q(spec['name'])} IN ({', '.join(map(lit, missing))}) THEN NULL ELSE {q(spec['name'])} END" \
        if missing else q(spec["name"])


def _typed(spec: dict, v: str) -> tuple[str, str]:
    """(SQL true when the text ``v`` is a valid value of the field's type, the typed value:
    NULL when not valid, as Frictionless reads a cell it cannot parse)."""
    valid, typed = _parse(spec, v)
    return valid, typed if valid == "true" else f"(CASE WHEN {valid} THEN {typed} END)"


def _parse(spec: dict, v: str) -> tuple[str, str]:
    kind, fmt = spec.get("type", "string"), spec.get("format", "default")
    if fmt not in ("default", None) and kind != "date":
        raise KehoachError(f"field {spec['name']!r}: format {fmt!r} is not supported by the validator")
    if kind in ("string", "any"):
        return "true", v
    if kind == "integer":
        return f"regexp_full_match({v}, '[+-]?[0-9]+')", f"TRY_CAST({v} AS HUGEINT)"
    if kind == "number":
        return f"TRY_CAST({v} AS DOUBLE) IS NOT NULL", f"TRY_CAST({v} AS DOUBLE)"
    if kind == "boolean":
        true, false = spec.get("trueValues", TRUE_VALUES), spec.get("falseValues", FALSE_VALUES)
        return f"{v} IN ({', '.join(map(lit, true + false))})", f"({v} IN ({', '.join(map(lit, true))}))"
    if kind == "date" and fmt in ("default", None):
        return (f"(regexp_full_match({v}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') AND TRY_CAST({v} AS DATE) IS NOT NULL)",
                f"TRY_CAST({v} AS DATE)")
    if kind == "year":
        return f"regexp_full_match({v}, '[0-9]{{4}}')", f"TRY_CAST({v} AS INTEGER)"
    raise KehoachError(f"field {spec['name']!r}: type {kind!r} (format {fmt!r}) is not supported by the validator")


def _literal(spec: dict, value: object) -> str:
    kind = spec.get("type", "string")
    if kind == "date":
        return f"DATE {lit(value)}"
    if kind in ("integer", "number", "year"):
        return str(value)
    return lit(value)


def row_checks(spec: dict, v: str) -> list[tuple[str, str, str]]:
    """(kind, note, SQL condition of a failing row) for one field, whose cell is ``v`` (NULL when missing)."""
    valid, typed = _typed(spec, v)
    name = spec["name"]
    constraints = spec.get("constraints", {})
    unknown = set(constraints) - KNOWN_CONSTRAINTS
    if unknown:
        raise KehoachError(f"field {name!r}: constraint(s) {sorted(unknown)} not supported by the validator")
    kind = spec.get("type", "string")
    checks = [] if valid == "true" else [  # any text is a string
        ("type-error", f"field {name!r}: not a valid {kind}", f"{v} IS NOT NULL AND NOT ({valid})")]
    if constraints.get("required"):
        checks.append(("constraint-error", f"field {name!r}: required", f"{v} IS NULL"))
    present = f"{v} IS NOT NULL AND ({valid})"
    if "enum" in constraints:
        values = ", ".join(_literal(spec, x) for x in constraints["enum"])
        checks.append(("constraint-error", f"field {name!r}: not in enum", f"{present} AND {typed} NOT IN ({values})"))
    if "pattern" in constraints:
        checks.append(("constraint-error", f"field {name!r}: does not match {constraints['pattern']!r}",
                       f"{present} AND NOT regexp_full_match({v}, {lit(constraints['pattern'])})"))
    for key, op in (("minimum", "<"), ("maximum", ">")):
        if key in constraints:
            checks.append(("constraint-error", f"field {name!r}: {key} {constraints[key]}",
                           f"{present} AND {typed} {op} {_literal(spec, constraints[key])}"))
    for key, op in (("minLength", "<"), ("maxLength", ">")):
        if key in constraints:
            checks.append(("constraint-error", f"field {name!r}: {key} {constraints[key]}",
                           f"{present} AND length({v}) {op} {int(constraints[key])}"))
    return checks


def _aliased(columns: list[str]) -> str:
    return ", ".join(f"{c} AS k{i}" for i, c in enumerate(columns))


def _key(fields: list[str] | str) -> list[str]:
    return [fields] if isinstance(fields, str) else list(fields)


@dataclass(frozen=True)
class RowScope:
    """What of a refresh can differ from the package in place: of ``tables``, the rows of ``plans``; the
    other plans' rows are those of the package in place, made from the same parse cache entries under
    the same schemas, and validated then (``kehoach.versions.incremental``). Of those tables, the CSV
    rows the writer copied from the package in place are not read again (``scoped_rows``)."""

    plans: frozenset[str]
    tables: frozenset[str]


class TableChecker:
    """The CSV resources of one package, loaded once into an in-memory DuckDB (``con``): as ``t_<name>``,
    the rows of a table read from its file; as ``u_<name>``, of a table of ``scoped``, its other rows'
    cells that keys compare (``kehoach.package.scoped_rows``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, directory: Path, resources: list[dict],
                 scoped: Mapping[str, ScopedRows] | None = None, unchanged: Collection[str] = ()) -> None:
        self.directory = directory
        self.resources = {r["name"]: r for r in resources}
        self.scoped = dict(scoped or {})  # those not read in part are dropped as they are loaded
        self.unchanged = frozenset(unchanged)
        self.kept: dict[str, list[str]] = {}
        self.unread: set[str] = set()  # the tables of rows not read made (``_held``)
        self.con = con
        self.violations: list[Violation] = []

    def run(self) -> list[Violation]:
        """Each table loaded, its rows and its own keys checked, then narrowed to what foreign keys and locating a
        row need: a corpus's tables are not all held whole at once. The violations keep their order: every
        table's rows, then each table's keys."""
        loaded: list[str] = []
        keyed: dict[str, list[Violation]] = {}
        for name in self.resources:
            if not self._load(name):
                continue
            loaded.append(name)
            before = len(self.violations)
            if not self._none_read(name):  # a table whose every row was copied has none to check
                self._rows(name)
                before = len(self.violations)
                self._own_keys(name)
            keyed[name] = self.violations[before:]
            del self.violations[before:]
            self.kept[name] = self._narrow(name)
        for name in loaded:
            self.violations += keyed[name]
            for fk in self.resources[name]["schema"].get("foreignKeys", []):
                self._foreign_key(name, fk, loaded)
        return self.violations

    def _all_rows(self, name: str) -> str:
        """Every row of ``name`` (its kept fields): of a table read in part, those read and the others'
        cells (``u_<name>``)."""
        read = q("t_" + name)
        if name not in self.scoped:
            return read
        unread = self._held(f"u_{name}", lambda: self.scoped[name].unread_cells(self.kept[name]))
        return f"(SELECT * FROM {read} UNION ALL BY NAME SELECT * FROM {unread})"

    def _plan_runs(self, name: str) -> str:
        """The plans of ``name``'s rows: those read, one a row, and, of a table read in part, one row a run of
        rows not read (its first row; ``_n``: its rows): a foreign key of ``plan_id`` alone needs no more."""
        read = f"SELECT _row, 1 AS _n, plan_id FROM {q('t_' + name)}"
        if name not in self.scoped:
            return f"({read})"
        runs = self._held(f"r_{name}", lambda: self.scoped[name].unread_runs)
        return f"({read} UNION ALL BY NAME SELECT * FROM {runs})"

    def _held(self, table: str, cells: Callable[[], pa.Table]) -> str:
        """``table``, made once from the Arrow table ``cells`` gives: held by DuckDB, under its budget (spilled)."""
        if table not in self.unread:
            self.con.complete()  # DuckDB registers nothing while a result of ``execute`` is unread
            self.con.register("cells", cells())
            self.con.execute(f"CREATE TABLE {q(table)} AS SELECT * FROM cells")
            self.con.unregister("cells")
            self.unread.add(table)
        return q(table)

    def _fields(self, name: str) -> list[dict]:
        return self.resources[name]["schema"]["fields"]

    def _load(self, name: str) -> bool:
        path = self.directory / self.resources[name]["path"]
        names = [f["name"] for f in self._fields(name)]
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), [])
        if header != names:
            self.scoped.pop(name, None)
            self._add(name, "label-error", f"header {header} is not the schema's fields {names}", 1)
            return False
        if name in self.scoped and self._load_read_rows(name, names):
            return True
        self.scoped.pop(name, None)
        try:
            self.con.execute(f"CREATE TABLE {q('t_' + name)} AS SELECT row_number() OVER () + 1 AS _row, * "
                             f"FROM {_read_csv(path, names)}")
        except duckdb.OutOfMemoryException:  # the machine's limit, not the file's fault (kehoach.core.errors)
            raise
        except duckdb.Error as exc:
            self._add(name, "source-error", str(exc).splitlines()[0], 1)
            return False
        return True

    def _none_read(self, name: str) -> bool:  # every row copied from the package in place
        return name in self.scoped and not self.scoped[name].read

    def _load_read_rows(self, name: str, names: list[str]) -> bool:
        """Load the rows not copied of a table of ``scoped``, at their row numbers in the whole file;
        False (the file is then read whole, as its errors are found) when they are not the rows expected."""
        rows = self.scoped[name]
        if not rows.read:  # none: the table of the rows read is empty (its cells text, as a file's)
            columns = ", ".join(f"{q(n)} VARCHAR" for n in names)
            self.con.execute(f"CREATE TABLE {q('t_' + name)} (_row BIGINT, {columns})")
            return True
        spill = spill_dir(self.directory)
        spill.mkdir(exist_ok=True)  # removed with the connection (``bounded``)
        extract = spill / f"{name}.csv"
        where = self._held(f"m_{name}", lambda: rows.extract(extract))
        try:
            self.con.execute(
                f"CREATE TABLE {q('t_' + name)} AS SELECT m.first_row + x._i - m.extract_first AS _row, "
                f"x.* EXCLUDE (_i) FROM (SELECT row_number() OVER () AS _i, * FROM {_read_csv(extract, names)}) x "
                f"JOIN {where} m ON x._i BETWEEN m.extract_first AND m.extract_last")
        except duckdb.OutOfMemoryException:
            raise
        except duckdb.Error:
            return False
        finally:
            extract.unlink()
        found, = self.con.execute(f"SELECT count(*) FROM {q('t_' + name)}").fetchone()
        if found == sum(r[3] for r in rows.read):
            return True
        self.con.execute(f"DROP TABLE {q('t_' + name)}")
        return False

    def _add(self, name: str, kind: str, note: str, count: int, row: int | None = None) -> None:
        source_line, plan_id = self._locate(name, row) if row else (None, None)
        self.violations.append(Violation(name, kind, note, count, row, source_line, plan_id))

    def _locate(self, name: str, row: int) -> tuple[int | None, str | None]:
        names = {f["name"] for f in self._fields(name)}
        cols = [f"TRY_CAST({q('source_line')} AS BIGINT)" if "source_line" in names else "NULL",
                q("plan_id") if "plan_id" in names else "NULL"]
        # a row of the cells' and own keys' checks was read; a foreign key's may be another (``_all_rows``)
        rows = self._all_rows(name) if name in self.kept else q("t_" + name)
        found = self.con.execute(f"SELECT {', '.join(cols)} FROM {rows} WHERE _row = ?", [row]).fetchone()
        return (found[0], found[1]) if found else (None, None)

    def _rows(self, name: str) -> None:
        """Every row-level rule in one pass: each cell read once as ``c<i>`` (NULL when missing), each row
        gives the numbers of the rules it breaks, counted with their first row. (An aggregate a rule, as
        ``count(*) FILTER``, cost DuckDB 20 ms a table to plan, more than checking a plan's rows.)"""
        missing = self.resources[name]["schema"].get("missingValues", [""])
        fields = self._fields(name)
        checks = [c for i, f in enumerate(fields) for c in row_checks(f, q(f"c{i}"))]
        if not checks:
            return
        cells = ", ".join(f"{_cell(f, missing)} AS {q(f'c{i}')}" for i, f in enumerate(fields))
        broken = ", ".join(f"CASE WHEN {cond} THEN {i} END" for i, (_, _, cond) in enumerate(checks))
        found = {rule: (count, row) for rule, count, row in self.con.execute(
            f"SELECT rule, count(*), min(_row) FROM (SELECT _row, unnest([{broken}]) AS rule "
            f"FROM (SELECT _row, {cells} FROM {q('t_' + name)})) WHERE rule IS NOT NULL GROUP BY rule").fetchall()}
        for i, (kind, note, _) in enumerate(checks):
            if i in found:
                self._add(name, kind, note, *found[i])

    def _typed_columns(self, name: str, fields: list[str]) -> list[str]:
        """Key cells as typed values, so '1' and '01' are one integer, as for Frictionless."""
        missing = self.resources[name]["schema"].get("missingValues", [""])
        specs = {f["name"]: f for f in self._fields(name)}
        return [_typed(specs[f], _cell(specs[f], missing))[1] for f in fields]

    def _duplicates(self, name: str, fields: list[str], kind: str, note: str) -> None:
        keys = self._typed_columns(name, fields)
        all_null = " AND ".join(f"({k}) IS NULL" for k in keys)
        table = q("t_" + name)
        # A grouping says whether a key repeats; the window that finds the first repeated row (a sort)
        # runs only then (1,000 plans: 1.15 -> 0.58 s for every table's keys).
        repeated, = self.con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE NOT ({all_null}) "
                                     f"GROUP BY {', '.join(keys)} HAVING count(*) > 1)").fetchone()
        if repeated:
            sql = (f"SELECT count(*), min(_row) FROM (SELECT _row, row_number() OVER (PARTITION BY "
                   f"{', '.join(keys)} ORDER BY _row) AS i FROM {table} WHERE NOT ({all_null})) WHERE i > 1")
            count, row = self.con.execute(sql).fetchone()
            self._add(name, kind, note, count, row)
        if kind == "primary-key":
            count, row = self.con.execute(f"SELECT count(*), min(_row) FROM {table} WHERE {all_null}").fetchone()
            if count:
                self._add(name, kind, f"{note}: every key cell is empty", count, row)

    def _own_keys(self, name: str) -> None:
        schema = self.resources[name]["schema"]
        for f in self._fields(name):
            if f.get("constraints", {}).get("unique"):
                self._duplicates(name, [f["name"]], "unique-error", f"field {f['name']!r}: values must be unique")
        if schema.get("primaryKey"):
            pk = _key(schema["primaryKey"])
            self._duplicates(name, pk, "primary-key", f"primary key {pk} is not unique")

    def _narrow(self, name: str) -> list[str]:
        """Keep of ``t_<name>`` the fields foreign keys compare (its own, and those
        pointing at it) and those that locate a row (``_locate``); those fields."""
        needed = set(LOCATING)
        for resource in self.resources.values():
            for fk in resource["schema"].get("foreignKeys", []):
                if resource["name"] == name:
                    needed.update(_key(fk["fields"]))
                if (fk["reference"].get("resource") or resource["name"]) == name:
                    needed.update(_key(fk["reference"]["fields"]))
        kept = [f["name"] for f in self._fields(name) if f["name"] in needed]
        # a table read in part (``scoped``) holds the rows not copied alone: not worth narrowing
        if len(kept) < len(self._fields(name)) and name not in self.scoped:
            table = q("t_" + name)
            self.con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT _row, "
                             f"{', '.join(q(c) for c in kept) or 'NULL AS _none'} FROM {table}")
        return kept

    def _foreign_key(self, name: str, fk: dict, loaded: list[str]) -> None:
        fields, ref = _key(fk["fields"]), fk["reference"]
        target, target_fields = ref.get("resource") or name, _key(ref["fields"])
        if target not in loaded:
            self._add(name, "foreign-key", f"foreign key {fields}: resource {target!r} is not a valid table", 1)
            return
        mine = self._typed_columns(name, fields)
        theirs = self._typed_columns(target, target_fields)
        all_null = " AND ".join(f"({k}) IS NULL" for k in mine)
        on = " AND ".join(f"c.k{i} = p.k{i}" for i in range(len(fields)))
        within = within_plans(fields, target_fields, self.scoped.get(name), self.scoped.get(target))
        # rows not read point where they did in the package in place, at the target's rows: when those are the
        # package in place's too (``unchanged``, validated there), only the rows read are checked, if any
        read_only = within or target in self.unchanged
        if (name in self.unchanged and target in self.unchanged) or (read_only and self._none_read(name)):
            return
        runs = not read_only and fields == ["plan_id"]  # a run of rows not read counts its rows (``_n``)
        rows = q("t_" + name) if read_only else self._plan_runs(name) if runs else self._all_rows(name)
        targets = q("t_" + target) if within else self._all_rows(target)
        sql = (f"SELECT sum(_n), min(c._row) FROM (SELECT _row, {'_n' if runs else '1'} AS _n, "
               f"{_aliased(mine)} FROM {rows} WHERE NOT ({all_null})) c "
               f"LEFT JOIN (SELECT DISTINCT {_aliased(theirs)} "
               f"FROM {targets}) p ON {on} WHERE p.k0 IS NULL")
        count, row = self.con.execute(sql).fetchone()
        if count:
            self._add(name, "foreign-key", f"foreign key {fields} -> {target}{target_fields}: no such row", count, row)


def check_csv_resources(directory: Path, resources: list[dict], scope: RowScope | None = None,
                        share: float = 1.0, tables: Mapping[str, pa.Table] | None = None,
                        unchanged: Collection[str] = ()) -> list[Violation]:
    """Every violation of the resources' Table Schemas, one per rule, with its first row; ``share``: of the
    DuckDB budget (``kehoach.core.duckdb_memory``). Given the ``scope`` of a refresh and the ``tables`` the
    package was written from, of a table of ``scope`` the rows copied from the package in place are not read
    from its file; every row read is checked (``kehoach.package.scoped_rows``). ``unchanged``: the tables whose
    CSV file is the package in place's (validated there): a foreign key between two is not checked again."""
    scoped = {} if scope is None or tables is None else read_in_part(
        directory, [r for r in resources if r["name"] in scope.tables], tables)
    with bounded(directory, share) as con:  # a table of a national corpus is spilled, not held
        return TableChecker(con, directory, resources, scoped, unchanged).run()


def _read_csv(path: Path, names: list[str]) -> str:
    """Every cell as text, as Frictionless reads it."""
    columns = "{" + ", ".join(f"{lit(n)}: 'VARCHAR'" for n in names) + "}"
    return (f"read_csv({lit(path)}, header=true, auto_detect=false, delim=',', quote='\"', escape='\"', "
            f"columns={columns}, strict_mode=true, null_padding=false)")
