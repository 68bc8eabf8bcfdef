"""The DuckDB file shipped with the package (``data/kehoach.duckdb``).

The shipped database (``data/kehoach.duckdb``) has one real table
per resource, typed and constrained as its Table Schema says (``DECIMAL(20,6)``
money, ``DATE`` dates, ``NOT NULL``, enum checks, primary and foreign keys),
the views and macros of ``kehoach/audit/views.sql``, bilingual comments on every
table and column, and documentation tables (``meta_package``,
``meta_resources``, ``meta_columns``, ``meta_sql``).

It is written in DuckDB's storage format v1.0.0 with 16 KiB blocks (a tenth
of the size with the default 256 KiB blocks, for a few hundred rows per
table), which DuckDB 1.1 or later opens (checked with 1.1.3, 1.2.2, 1.3.2 and
2.0.1; 1.0 cannot). The version that wrote it is recorded in ``meta_package``
and in ``datapackage.json`` (``duckdb_version``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

from kehoach import __version__
from kehoach.audit import duckdb_tables
from kehoach.audit.duckdb_tables import (
    ConstraintsBroken,
    column_type,
    create_views,
    foreign_keys,
    literal,
    load_order,
    load_table,
    loaded_names,
    quote,
)
from kehoach.audit.runner import rule_sql
from kehoach.core.duckdb_memory import bounded
from kehoach.core.files import digest_files
from kehoach.core.model import Tables, load_schema, primary_key, resource_meta, resource_names
from kehoach.core.paths import CODE_ROOT, SCHEMAS_DIR, VIEWS_SQL
from kehoach.package.constraints import RowScope
from kehoach.package.layout import DATA_DIR, RecordedFiles
from kehoach.package.pending import InPlace
from kehoach.package.plan_rows import narrowed
from kehoach.package.writer import file_resource

DATABASE_FILE = f"{DATA_DIR}/kehoach.duckdb"
DATABASE_RESOURCE = "database"
# Oldest storage format DuckDB 2 writes, and small blocks: DuckDB 1.1 or later opens the file.
STORAGE_VERSION = "v1.0.0"
BLOCK_SIZE = 16384
OLDEST_READER = "1.1"
# The code that declares the file's tables, views and documentation: a file written by other code is
# written whole, not updated (``writer_fingerprint``).
WRITER_CODE = (Path(__file__), Path(duckdb_tables.__file__))

log = logging.getLogger(__name__)


def duckdb_version() -> str:
    return duckdb.__version__


# --- documentation ----------------------------------------------------------------

def _comment(title: str, title_vi: str, description: str, description_vi: str) -> str:
    return f"{title_vi} — {title}. {description_vi} / {description}".strip()


def document(con: duckdb.DuckDBPyConnection, names: list[str], extra_sql: list[dict]) -> None:
    """Bilingual comments on tables and columns, and the meta_* documentation tables."""
    resources, columns, comments = [], [], []
    for name in names:
        meta, schema = resource_meta(name), load_schema(name)
        text = _comment(meta["title"], meta["title_vi"], meta["description"], meta["description_vi"])
        comments.append(f"COMMENT ON TABLE {quote(name)} IS {literal(text)}")
        resources.append({"resource": name, "title": meta["title"], "title_vi": meta["title_vi"],
                          "description": meta["description"], "description_vi": meta["description_vi"],
                          "primary_key": ", ".join(primary_key(name)) or None,
                          "derived": bool(meta.get("derived", False))})
        for position, f in enumerate(schema["fields"], 1):
            comments.append(f"COMMENT ON COLUMN {quote(name)}.{quote(f['name'])} IS "
                            f"{literal(_comment(f['title'], f['title_vi'], f['description'], f['description_vi']))}")
            columns.append({"resource": name, "position": position, "column_name": f["name"],
                            "type": column_type(f), "title": f["title"], "title_vi": f["title_vi"],
                            "description": f["description"], "description_vi": f["description_vi"],
                            "unit": f.get("unit"), "required": bool(f.get("constraints", {}).get("required")),
                            "constraints": json.dumps(f["constraints"], ensure_ascii=False)
                            if f.get("constraints") else None})
    con.execute(";\n".join(comments))  # one call: a statement's round trip costs more than the comment
    _table(con, "meta_resources", resources, "Resources of the package and what they hold.")
    _table(con, "meta_columns", columns, "Every column: type, unit and bilingual title and description.")
    sql_rows = [{"name": "views", "path": VIEWS_SQL.relative_to(CODE_ROOT).as_posix(),
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
            "money_unit": "million VND (triệu đồng), DECIMAL(20,6)", "writer_fingerprint": writer_fingerprint()}


def writer_fingerprint() -> str:
    """The sha256 of what decides the file's declarations besides its rows: this code, the schemas, the
    views, the rules' SQL, the DuckDB version, storage format and block size. A file in place with another
    is written whole by the next refresh (``_updated_copy``)."""
    digest = hashlib.sha256(f"{duckdb_version()}\0{STORAGE_VERSION}\0{BLOCK_SIZE}\0".encode())
    digest_files(digest, [*WRITER_CODE, *sorted(SCHEMAS_DIR.glob("*.json")), VIEWS_SQL], lambda path: path.name)
    digest.update(json.dumps(rule_sql(), ensure_ascii=False, sort_keys=True).encode())
    return digest.hexdigest()


# --- the shipped file -----------------------------------------------------------

def write_database(tables: Tables, path: Path, share: float = 1.0, in_place: InPlace | None = None) -> dict[str, str]:
    """Write every table, the views, the documentation and the audit's SQL to a new DuckDB file, within
    ``share`` of the DuckDB budget (``kehoach.core.duckdb_memory``); for a refresh of known scope
    (``in_place``), a copy of the file in place with only what changed, when that holds the same
    (``_updated_copy``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    facts = _updated_copy(tables, path, share, in_place) if in_place is not None else None
    if facts is not None:
        return facts
    path.unlink(missing_ok=True)
    # one thread: it runs beside the CSV writer and the validation (kehoach.package.pending), which need the other core
    # spilled beside the file, not held; a write the disk refuses (the file's, a failed commit's) is the
    # OSError it was (bounded(): one line, exit 2)
    with bounded(path.parent, share, threads=1) as con:
        return _fill(con, tables, path)


def _fill(con: duckdb.DuckDBPyConnection, tables: Tables, path: Path) -> dict[str, str]:
    con.execute(f"ATTACH {literal(str(path))} AS kehoach "
                f"(STORAGE_VERSION {literal(STORAGE_VERSION)}, BLOCK_SIZE {BLOCK_SIZE})")
    con.execute("USE kehoach")
    unconstrained = _load_each_committed(con, tables)
    # the rest in one transaction (a commit a statement cost a second, and a third of the file's
    # time for the plan's package)
    con.execute("BEGIN TRANSACTION")
    create_views(con)
    names = [n for n in resource_names() if n in tables]
    document(con, names, rule_sql())
    facts = package_facts(tables) | {"tables_without_constraints": ", ".join(unconstrained)}
    _table(con, "meta_package", [{"key": k, "value": v} for k, v in facts.items()],
           "Facts about this database: who wrote it, with which DuckDB, for which plans.")
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    con.execute("USE memory")
    con.execute("DETACH kehoach")
    return facts


def _load_each_committed(con: duckdb.DuckDBPyConnection, tables: Tables) -> list[str]:
    """Load the tables, each in a transaction of its own: DuckDB holds a transaction's key indexes in
    memory until it commits, so the corpus in one transaction needed memory for every table's keys at
    once (1,000 plans: 150 MB failed, a table at a time fits; 5,000: 700 MB failed). A table whose rows
    break its constraints is rolled back and loaded again without them (the names of such tables are
    returned; the validation, not the database, reports the rows)."""
    unconstrained: list[str] = []
    constrained: set[str] = set()
    for name in load_order(loaded_names(tables)):
        con.execute("BEGIN TRANSACTION")
        try:
            load_table(con, tables, name, constrained, unconstrained)
        except ConstraintsBroken as exc:
            con.execute("ROLLBACK")
            log.warning("database: table %s is kept without its constraints: %s", exc.name, exc.message)
            unconstrained.append(exc.name)
            con.execute("BEGIN TRANSACTION")
            load_table(con, tables, name, constrained, unconstrained)
        con.execute("COMMIT")
    return unconstrained


# --- a refresh: the file in place, updated ----------------------------------------------

class _NotTheSame(Exception):
    """The copy cannot be made to hold what a file written whole would (``_updated_copy``)."""


def _updated_copy(tables: Tables, path: Path, share: float, in_place: InPlace) -> dict[str, str] | None:
    """The file in place copied to ``path`` and updated to hold ``tables``: the rows that differ, of the scope's
    tables among the changed plans' rows alone (``_update``). None (the copy removed) unless the result is
    provably that of a file written whole: the file in place is the one its descriptor records, written by the
    same code (``writer_fingerprint``) with every table constrained, for the same tables; no row breaks a
    constraint; every table has its rows' count."""
    source = in_place.out / DATABASE_FILE
    if not RecordedFiles(in_place.out).holds(DATABASE_FILE):
        return None
    shutil.copyfile(source, path)
    try:
        with bounded(path.parent, share, threads=1) as con:
            con.execute(f"ATTACH {literal(str(path))} AS kehoach")
            con.execute("USE kehoach")
            try:
                return _update(con, tables, in_place.scope)
            finally:
                con.execute("USE memory")
                con.execute("DETACH kehoach")
    except (_NotTheSame, duckdb.Error) as exc:  # a refused row, or anything DuckDB would not change in place
        log.warning("database: written whole, not updated: %s", " ".join(str(exc).split()))
    path.unlink(missing_ok=True)
    return None


def _update(con: duckdb.DuckDBPyConnection, tables: Tables, scope: RowScope) -> dict[str, str]:
    """``_updated_copy``'s changes, on the attached copy. Deletions go first, each table in a transaction
    of its own, the tables pointing at a table before it (DuckDB refuses, in one transaction, to delete a
    row once pointed at even after the rows pointing at it were deleted); then updates and insertions,
    each table after those it points at."""
    facts = dict(con.execute("SELECT key, value FROM meta_package").fetchall())
    names = load_order(loaded_names(tables))
    held = {n for (n,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'kehoach'")
            .fetchall() if not n.startswith("meta_")}
    if facts.get("writer_fingerprint") != writer_fingerprint() or facts.get("tables_without_constraints"):
        raise _NotTheSame("the file in place was written by other code or holds a table without its constraints")
    if held != set(names):
        raise _NotTheSame(f"the file in place holds other tables: {sorted(held ^ set(names))}")
    plans = sorted(scope.plans)
    # of a scoped table, DuckDB is given the changed plans' rows only: filtering the whole Arrow table in SQL
    # converted every row of it first (a plan's rows in a 1,000-plan corpus: 0.4 s of the 0.6 s)
    new = narrowed(tables, scope)
    indexed = {name: _indexed(name, names) for name in names}
    for name in reversed(names):
        _in_transaction(con, new[name], _delete_stale, name, name in scope.tables, plans, indexed[name])
    for name in names:
        _in_transaction(con, new[name], _insert_new, name, indexed[name])
        [(count,)] = con.execute(f"SELECT count(*) FROM {quote(name)}").fetchall()
        if count != tables[name].num_rows:  # a key twice among the new rows
            raise _NotTheSame(f"table {name}: {count} rows, not {tables[name].num_rows}")
    new_facts = package_facts(tables) | {"tables_without_constraints": ""}
    con.execute("BEGIN TRANSACTION")
    con.execute("DELETE FROM meta_package")
    con.executemany("INSERT INTO meta_package VALUES (?, ?)", list(new_facts.items()))
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    return new_facts


_NEW = "_new_rows"


def _in_transaction(con: duckdb.DuckDBPyConnection, new: pa.Table, change: Callable[..., None], *args) -> None:
    """``change(con, *args)`` in a transaction of its own, the table's ``new`` rows readable as ``_NEW``."""
    con.register(_NEW, new)
    con.execute("BEGIN TRANSACTION")
    try:
        change(con, *args)
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.TransactionException):  # a failed COMMIT has rolled back already
            con.execute("ROLLBACK")
        raise
    finally:
        con.unregister(_NEW)


def _indexed(name: str, names: list[str]) -> list[str]:
    """The columns of ``name`` DuckDB indexes: its primary key's, then its foreign keys' (an indexed column is
    not updated in place, and a row that changes one is deleted and inserted)."""
    if name not in resource_names():
        return []
    fks = [c for mine, _, _ in foreign_keys(name, set(names)) for c in mine]
    return list(dict.fromkeys([*primary_key(name), *fks]))


def _delete_stale(con: duckdb.DuckDBPyConnection, name: str, scoped: bool, plans: list[str],
                  indexed: list[str]) -> None:
    """The rows of ``name`` the new rows do not hold with the same ``indexed`` cells (of a scoped table, of its
    changed plans' rows: ``_NEW`` holds theirs alone); all of them in a table without a key. The rows an
    amendment left as they were stay: their keys' indexes unchanged, DuckDB does not write them again."""
    table = quote(name)
    if not indexed:
        con.execute(f"DELETE FROM {table}")
        return
    of_plans = "plan_id IN (SELECT unnest(?::VARCHAR[])) AND " if scoped else ""
    con.execute(f"DELETE FROM {table} WHERE {of_plans}NOT EXISTS (SELECT 1 FROM {_NEW} WHERE "
                f"{_matching(indexed, table)})", [plans] if scoped else None)


def _insert_new(con: duckdb.DuckDBPyConnection, name: str, indexed: list[str]) -> None:
    """The new rows of ``name``: those held with the same ``indexed`` cells and other values updated in place,
    the others inserted."""
    table = quote(name)
    columns = [c for (c,) in con.execute(f"SELECT column_name FROM (DESCRIBE {_NEW})").fetchall()]
    listed = ", ".join(quote(c) for c in columns)
    into = f"{table} ({listed})"
    if not indexed:
        con.execute(f"INSERT INTO {into} SELECT {listed} FROM {_NEW}")
        return
    values = [c for c in columns if c not in indexed]
    if values:
        differs = " OR ".join(f"{table}.{quote(c)} IS DISTINCT FROM {_NEW}.{quote(c)}" for c in values)
        con.execute(f"UPDATE {table} SET {', '.join(f'{quote(c)} = {_NEW}.{quote(c)}' for c in values)} "
                    f"FROM {_NEW} WHERE {_matching(indexed, table)} AND ({differs})")
    con.execute(f"INSERT INTO {into} SELECT {listed} FROM {_NEW} "
                f"WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {_matching(primary_key(name) or indexed, table)})")


def _matching(key: list[str], table: str) -> str:
    return " AND ".join(f"{table}.{quote(k)} IS NOT DISTINCT FROM {_NEW}.{quote(k)}" for k in key)


def stage_database(tables: Tables, directory: Path, extra: dict, share: float = 1.0,
                   in_place: InPlace | None = None) -> list[dict]:
    """Stage hook: write ``data/kehoach.duckdb`` into the staging directory (``share``: of the DuckDB budget;
    ``in_place``: the package a refresh of known scope replaces, whose file it may start from)."""
    facts = write_database(tables, directory / DATABASE_FILE, share, in_place)
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
