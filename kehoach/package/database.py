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

import json
import logging
from pathlib import Path

import duckdb
import pyarrow as pa

from kehoach import __version__
from kehoach.audit.duckdb_tables import (
    ConstraintsBroken,
    column_type,
    create_views,
    literal,
    load_order,
    load_table,
    loaded_names,
    quote,
)
from kehoach.audit.runner import rule_sql
from kehoach.core.duckdb_memory import bounded
from kehoach.core.model import Tables, load_schema, primary_key, resource_meta, resource_names
from kehoach.core.paths import CODE_ROOT, VIEWS_SQL
from kehoach.package.layout import DATA_DIR
from kehoach.package.writer import file_resource

DATABASE_FILE = f"{DATA_DIR}/kehoach.duckdb"
DATABASE_RESOURCE = "database"
# Oldest storage format DuckDB 2 writes, and small blocks: DuckDB 1.1 or later opens the file.
STORAGE_VERSION = "v1.0.0"
BLOCK_SIZE = 16384
OLDEST_READER = "1.1"

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
            "money_unit": "million VND (triệu đồng), DECIMAL(20,6)"}


# --- the shipped file -----------------------------------------------------------

def write_database(tables: Tables, path: Path, share: float = 1.0) -> dict[str, str]:
    """Write every table, the views, the documentation and the audit's SQL to a new DuckDB file, within
    ``share`` of the DuckDB budget (``kehoach.core.duckdb_memory``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
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


def stage_database(tables: Tables, directory: Path, extra: dict, share: float = 1.0) -> list[dict]:
    """Stage hook: write ``data/kehoach.duckdb`` into the staging directory (``share``: of the DuckDB budget)."""
    facts = write_database(tables, directory / DATABASE_FILE, share)
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
