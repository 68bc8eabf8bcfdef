"""The package's tables in DuckDB: for the audit, and as a file shipped with the package.

Tables are loaded straight from the Arrow tables the stages exchange (no CSV
round-trip). The shipped database (``data/kehoach.duckdb``) has one real table
per resource, typed and constrained as its Table Schema says (``DECIMAL(20,6)``
money, ``DATE`` dates, ``NOT NULL``, enum checks, primary and foreign keys),
the views and macros of ``flows/sql/views.sql``, bilingual comments on every
table and column, and documentation tables (``meta_package``,
``meta_resources``, ``meta_columns``, ``meta_sql``).

It is written in DuckDB's storage format v1.0.0 with 16 KiB blocks (a tenth
of the size with the default 256 KiB blocks, for a few hundred rows per
table), which DuckDB 1.1 or later opens (checked with 1.1.3, 1.2.2, 1.3.2 and
2.0.1; 1.0 cannot). The version that wrote it is recorded in ``meta_package``
and in ``datapackage.json`` (``duckdb_version``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa

from . import __version__
from .model import Tables, load_schema, primary_key, resource_meta, resource_names
from .package import DATA_DIR, file_resource
from .paths import REPO_ROOT

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).with_name("sql")
VIEWS_SQL = SQL_DIR / "views.sql"
DATABASE_FILE = f"{DATA_DIR}/kehoach.duckdb"
DATABASE_RESOURCE = "database"
# Oldest storage format DuckDB 2 writes, and small blocks: DuckDB 1.1 or later opens the file.
STORAGE_VERSION = "v1.0.0"
BLOCK_SIZE = 16384
OLDEST_READER = "1.1"

_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "boolean": "BOOLEAN", "date": "DATE",
          "datetime": "TIMESTAMPTZ", "year": "INTEGER"}


def duckdb_version() -> str:
    return duckdb.__version__


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def column_type(spec: dict) -> str:
    if spec.get("type") == "number":
        return f"DECIMAL({spec.get('decimalPrecision', 20)}, {spec.get('decimalScale', 6)})"
    return _TYPES[spec.get("type", "string")]


# --- tables --------------------------------------------------------------------

def _foreign_keys(name: str, present: set[str]) -> list[tuple[list[str], str, list[str]]]:
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
    for mine, ref, theirs in _foreign_keys(name, present):
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
        for _, ref, _ in _foreign_keys(name, present):
            visit(ref, (*path, name))
        done.add(name)
        ordered.append(name)

    for name in names:
        visit(name, ())
    return ordered


def load_tables(con: duckdb.DuckDBPyConnection, tables: Tables, constraints: bool = True) -> list[str]:
    """One DuckDB table per resource, filled from its Arrow table.

    With ``constraints`` the tables are declared from the Table Schemas (types,
    NOT NULL, enums, primary and foreign keys); without, they take the Arrow
    types as they are. The database never decides whether data is valid: that
    is Frictionless' job, which reports the offending source line. A table
    whose rows break its constraints is loaded without them (and without
    foreign keys pointing at it); the names of such tables are returned.
    """
    known = set(resource_names())
    names = [n for n in resource_names() if n in tables] + sorted(n for n in tables if n not in known)
    constrained: set[str] = set()
    unconstrained: list[str] = []
    for name in load_order(names) if constraints else names:
        view = f"_arrow_{name}"
        con.register(view, tables[name])
        try:
            if constraints and name in known:
                try:
                    _create_constrained(con, name, view, tables[name].column_names, constrained)
                    constrained.add(name)
                    continue
                except duckdb.ConstraintException as exc:
                    log.warning("database: table %s is kept without its constraints: %s", name,
                                " ".join(str(exc).split()))
                    con.execute(f"DROP TABLE IF EXISTS {quote(name)}")
                    unconstrained.append(name)
            con.execute(f"CREATE TABLE {quote(name)} AS SELECT * FROM {quote(view)}")
        finally:
            con.unregister(view)
    return unconstrained


def _create_constrained(con, name: str, view: str, columns: list[str], constrained: set[str]) -> None:
    con.execute(create_table_sql(name, constrained))
    listed = ", ".join(quote(c) for c in columns)
    con.execute(f"INSERT INTO {quote(name)} ({listed}) SELECT {listed} FROM {quote(view)}")


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(VIEWS_SQL.read_text(encoding="utf-8"))


# --- documentation ----------------------------------------------------------------

def _comment(title: str, title_vi: str, description: str, description_vi: str) -> str:
    return f"{title_vi} — {title}. {description_vi} / {description}".strip()


def document(con: duckdb.DuckDBPyConnection, names: list[str], extra_sql: list[dict]) -> None:
    """Bilingual comments on tables and columns, and the meta_* documentation tables."""
    resources, columns = [], []
    for name in names:
        meta, schema = resource_meta(name), load_schema(name)
        text = _comment(meta["title"], meta["title_vi"], meta["description"], meta["description_vi"])
        con.execute(f"COMMENT ON TABLE {quote(name)} IS {literal(text)}")
        resources.append({"resource": name, "title": meta["title"], "title_vi": meta["title_vi"],
                          "description": meta["description"], "description_vi": meta["description_vi"],
                          "primary_key": ", ".join(primary_key(name)) or None,
                          "derived": bool(meta.get("derived", False))})
        for position, f in enumerate(schema["fields"], 1):
            con.execute(f"COMMENT ON COLUMN {quote(name)}.{quote(f['name'])} IS "
                        f"{literal(_comment(f['title'], f['title_vi'], f['description'], f['description_vi']))}")
            columns.append({"resource": name, "position": position, "column_name": f["name"],
                            "type": column_type(f), "title": f["title"], "title_vi": f["title_vi"],
                            "description": f["description"], "description_vi": f["description_vi"],
                            "unit": f.get("unit"), "required": bool(f.get("constraints", {}).get("required")),
                            "constraints": json.dumps(f["constraints"], ensure_ascii=False)
                            if f.get("constraints") else None})
    _table(con, "meta_resources", resources, "Resources of the package and what they hold.")
    _table(con, "meta_columns", columns, "Every column: type, unit and bilingual title and description.")
    sql_rows = [{"name": "views", "path": VIEWS_SQL.relative_to(REPO_ROOT).as_posix(),
                 "sql": VIEWS_SQL.read_text(encoding="utf-8")}, *extra_sql]
    _table(con, "meta_sql", sql_rows, "SQL that made the views and the audit findings (re-runnable here).")


def _table(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict], comment: str) -> None:
    table = pa.Table.from_pylist(rows)
    con.register("_meta", table)
    try:
        con.execute(f"CREATE TABLE {quote(name)} AS SELECT * FROM _meta")
    finally:
        con.unregister("_meta")
    con.execute(f"COMMENT ON TABLE {quote(name)} IS {literal(comment)}")


def package_facts(tables: Tables) -> dict[str, str]:
    plans = tables["plans"].column("plan_id").to_pylist() if "plans" in tables else []
    return {"generator": f"kehoach {__version__}", "duckdb_version": duckdb_version(),
            "storage_version": STORAGE_VERSION, "block_size": str(BLOCK_SIZE),
            "opens_in": f"DuckDB {OLDEST_READER} or later", "plans": ", ".join(plans),
            "money_unit": "million VND (triệu đồng), DECIMAL(20,6)"}


# --- the shipped file -----------------------------------------------------------

def write_database(tables: Tables, path: Path) -> dict[str, str]:
    """Write every table, the views, the documentation and the audit's SQL to a new DuckDB file."""
    from .audit import rule_sql  # the audit's SQL travels with the database

    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {literal(str(path))} AS kehoach "
                    f"(STORAGE_VERSION {literal(STORAGE_VERSION)}, BLOCK_SIZE {BLOCK_SIZE})")
        con.execute("USE kehoach")
        unconstrained = load_tables(con, tables, constraints=True)
        create_views(con)
        names = [n for n in resource_names() if n in tables]
        document(con, names, rule_sql())
        facts = package_facts(tables) | {"tables_without_constraints": ", ".join(unconstrained)}
        _table(con, "meta_package", [{"key": k, "value": v} for k, v in facts.items()],
               "Facts about this database: who wrote it, with which DuckDB, for which plans.")
        con.execute("CHECKPOINT")
        con.execute("USE memory")
        con.execute("DETACH kehoach")
    finally:
        con.close()
    return facts


def stage_database(tables: Tables, directory: Path, extra: dict) -> list[dict]:
    """Stage hook: write ``data/kehoach.duckdb`` into the staging directory."""
    facts = write_database(tables, directory / DATABASE_FILE)
    extra["duckdb_version"] = facts["duckdb_version"]
    return [file_resource(
        directory, DATABASE_FILE, DATABASE_RESOURCE, format="duckdb",
        title="DuckDB database of the package",
        title_vi="Cơ sở dữ liệu DuckDB của gói dữ liệu",
        description=(f"Every table of the package with its primary and foreign keys, views (budget by area and "
                     f"level, tasks with their agencies, …), the audit's SQL and column documentation (meta_columns). "
                     f"Written by DuckDB {facts['duckdb_version']} in storage format {STORAGE_VERSION} "
                     f"(opens in DuckDB {OLDEST_READER} or later): duckdb {DATABASE_FILE}"),
        description_vi=(f"Mọi bảng của gói dữ liệu kèm khóa chính, khóa ngoại, các view (kinh phí theo lĩnh vực và "
                        f"cấp ngân sách, nhiệm vụ và cơ quan chủ trì, …), câu lệnh SQL kiểm tra và mô tả cột "
                        f"(meta_columns). "
                        f"Tạo bởi DuckDB {facts['duckdb_version']}, định dạng lưu trữ {STORAGE_VERSION} "
                        f"(mở được bằng DuckDB {OLDEST_READER} trở lên)."),
        duckdb_version=facts["duckdb_version"], duckdb_storage_version=STORAGE_VERSION,
    )]
