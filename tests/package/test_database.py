"""The DuckDB database shipped with the package (data/kehoach.duckdb)."""

import re
from collections import defaultdict
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest

from kehoach.audit.runner import run_audit
from kehoach.core.files import sha256_file
from kehoach.core.model import load_schema, primary_key
from kehoach.package.database import DATABASE_FILE, STORAGE_VERSION, stage_database, write_database


def scalar(db, sql: str):
    """The one value of a query (DuckDB 2 keeps a result open until it is fetched whole)."""
    [(value,)] = db.execute(sql).fetchall()
    return value


@pytest.fixture(scope="module")
def audited_tables(plan_tables):
    return run_audit(plan_tables).tables


@pytest.fixture(scope="module")
def db_path(audited_tables, tmp_path_factory):
    path = tmp_path_factory.mktemp("db") / "kehoach.duckdb"
    write_database(audited_tables, path)
    return path


@pytest.fixture(scope="module")
def db(db_path):
    con = duckdb.connect(str(db_path), read_only=True)
    yield con
    con.close()


def test_every_table_with_its_primary_key(db, audited_tables):
    pks = defaultdict(list)
    for table, text in db.sql("SELECT table_name, constraint_text FROM duckdb_constraints() "
                              "WHERE constraint_type = 'PRIMARY KEY'").fetchall():
        pks[table].append(text)
    for name, table in audited_tables.items():
        assert scalar(db, f'SELECT count(*) FROM "{name}"') == table.num_rows, name
        if primary_key(name):
            assert len(pks[name]) == 1, name
            assert all(k in pks[name][0] for k in primary_key(name)), name


def test_foreign_keys_including_those_completed_with_the_plan(db_path, tmp_path):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db_path.read_bytes())
    con = duckdb.connect(str(copy))
    try:
        fks = [t for (t,) in con.execute("SELECT constraint_text FROM duckdb_constraints() WHERE table_name = "
                                         "'budget_items' AND constraint_type = 'FOREIGN KEY'").fetchall()]
        assert any("REFERENCES pillars(plan_id, pillar_id)" in t for t in fks)  # the schema says pillar -> pillar_id
        with pytest.raises(duckdb.ConstraintException, match="foreign key"):
            con.execute("INSERT INTO budget_lines (plan_id, item_code, budget_level, expenditure_type, "
                        "amount_million_vnd, stated_as, amount_text, source_line) VALUES "
                        "('quang-ngai-219-kh-ubnd-2023', '99.9', 'province', 'recurrent', 1, 'number', '1', 1)")
        with pytest.raises(duckdb.ConstraintException):
            con.execute("INSERT INTO budget_lines SELECT * FROM budget_lines LIMIT 1")  # the primary key
    finally:
        con.close()


def test_exact_types(db):
    types = dict(db.sql("SELECT table_name || '.' || column_name, data_type FROM duckdb_columns()").fetchall())
    assert types["budget_lines.amount_million_vnd"] == "DECIMAL(20,6)"
    assert types["tasks.deadline_date"] == "DATE"
    assert types["findings.difference"] == "DECIMAL(20,6)"
    assert types["plans.plan_year"] == "BIGINT"


def test_budget_by_pillar_and_level_adds_up_to_the_lines(db, audited_tables):
    by_column = defaultdict(Decimal)
    for line in audited_tables["budget_lines"].to_pylist():
        by_column[(line["budget_level"], line["expenditure_type"])] += line["amount_million_vnd"]
    view = db.sql("SELECT budget_level, expenditure_type, sum(amount_million_vnd) FROM budget_by_pillar_level "
                  "GROUP BY ALL").fetchall()
    assert {(lvl, typ): amount for lvl, typ, amount in view} == dict(by_column)
    assert db.sql("SELECT amount_million_vnd FROM budget_by_pillar_level WHERE pillar = 'overhead'").fetchall() == [
        (Decimal(8500),)]


def test_tasks_with_their_agencies(db, audited_tables):
    rows = db.sql("SELECT task_code, mention, agency_name_vi FROM tasks_with_agencies "
                  "WHERE task_code = '10.3' ORDER BY mention_no").fetchall()
    assert [r[1] for r in rows] == ["Sở TT&TT", "UBND cấp huyện"]
    assert all(r[2] for r in rows)
    assert scalar(db, "SELECT count(DISTINCT task_code) FROM tasks_with_agencies") == len(
        audited_tables["tasks"])


def test_columns_are_documented_in_both_languages(db, audited_tables):
    documented = {(r, c): (t, tv) for r, c, t, tv in db.sql(
        "SELECT resource, column_name, title, title_vi FROM meta_columns").fetchall()}
    for name in audited_tables:
        for f in load_schema(name)["fields"]:
            assert documented[(name, f["name"])] == (f["title"], f["title_vi"])
    field = next(f for f in load_schema("budget_lines")["fields"] if f["name"] == "amount_million_vnd")
    comment = scalar(db, "SELECT comment FROM duckdb_columns() WHERE table_name = 'budget_lines' "
                     "AND column_name = 'amount_million_vnd'")
    assert comment.startswith(f"{field['title_vi']} — {field['title']}.") and field["description"] in comment


def test_the_version_that_wrote_it(db):
    facts = dict(db.sql("SELECT key, value FROM meta_package").fetchall())
    assert facts["duckdb_version"] == duckdb.__version__
    assert facts["storage_version"] == STORAGE_VERSION
    tags = scalar(db, "SELECT tags FROM duckdb_databases() WHERE NOT internal")
    assert tags["storage_version"].startswith(STORAGE_VERSION)


def test_the_audit_rules_rerun_on_the_shipped_file(db, audited_tables):
    """A researcher can run any rule's SQL (kept in meta_sql) on the file and get its findings back."""
    by_rule = defaultdict(set)
    for f in audited_tables["findings"].to_pylist():
        by_rule[f["rule_id"]].add((f["plan_id"], f["row_key"]))
    rules = db.sql("SELECT name, sql FROM meta_sql WHERE name <> 'views'").fetchall()
    assert len(rules) == len(audited_tables["audit_rules"])
    for name, sql in rules:
        cursor = db.execute(sql)
        columns = [d[0] for d in cursor.description]
        rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
        assert {(r["plan_id"], r["row_key"]) for r in rows} == by_rule[name], name


def test_a_table_that_breaks_its_schema_is_kept_without_constraints(audited_tables, tmp_path):
    """Frictionless, not the database, reports invalid data (at its source line): the file is still written."""
    tasks = audited_tables["tasks"]
    broken = {**audited_tables, "tasks": pa.concat_tables([tasks, tasks.slice(0, 1)])}  # a primary key twice
    facts = write_database(broken, tmp_path / "x.duckdb")
    assert facts["tables_without_constraints"] == "tasks"
    con = duckdb.connect(str(tmp_path / "x.duckdb"), read_only=True)
    try:
        kinds = con.execute("SELECT table_name, constraint_type FROM duckdb_constraints() "
                            "WHERE constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')").fetchall()
        assert ("tasks", "PRIMARY KEY") not in kinds and ("task_agencies", "PRIMARY KEY") in kinds
        assert scalar(con, "SELECT count(*) FROM tasks") == tasks.num_rows + 1
    finally:
        con.close()


def test_the_stage_hook_describes_the_file(audited_tables, tmp_path):
    extra: dict = {}
    [resource] = stage_database(audited_tables, tmp_path, extra)
    path = tmp_path / DATABASE_FILE
    assert resource["path"] == DATABASE_FILE and resource["type"] == "file"
    assert resource["hash"] == f"sha256:{sha256_file(path)}" and resource["bytes"] == path.stat().st_size
    assert extra["duckdb_version"] == resource["duckdb_version"] == duckdb.__version__


def test_per_year_and_area_by_level_views_answer_in_one_query(db, audited_tables):
    per_year = defaultdict(Decimal)
    for line in audited_tables["investment_lines"].to_pylist():
        per_year[line["year"]] += line["amount_million_vnd"]
    got = db.sql("SELECT year, amount_million_vnd FROM investment_by_year").fetchall()
    assert dict(got) == dict(per_year) and len(got) > 1 and [y for y, _ in got] == sorted(per_year)
    items = {(i["item_code"]): i["pillar"] for i in audited_tables["budget_items"].to_pylist()}
    by_area_level = defaultdict(Decimal)
    for line in audited_tables["budget_lines"].to_pylist():
        if "all" not in (line["budget_level"], line["expenditure_type"]):
            by_area_level[(items[line["item_code"]], line["budget_level"])] += line["amount_million_vnd"]
    rows = db.sql("SELECT pillar, budget_level, amount_million_vnd FROM budget_by_pillar_and_level").fetchall()
    assert {(p, lvl): a for p, lvl, a in rows} == dict(by_area_level) and len(rows) == len(by_area_level)


def test_every_view_for_readers_is_listed_with_its_sentence_in_the_readme(db, built_package):
    views = {name for (name,) in db.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
             if not name.startswith("audit_")}
    readme = (built_package / "README.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^  - `(\w+)`: (.+)$", readme, flags=re.M))
    assert views <= set(listed) and {"investment_by_year", "budget_by_pillar_and_level"} <= views
    for name in views:
        vi, _, en = listed[name].partition(" / ")
        assert vi.endswith(".") and en.endswith(".") and len(en.split()) > 4, name
