"""The audit in the Prefect flow and the CLI: findings, database and README in the package; --strict."""

import csv
import json

import duckdb
import pytest
from helpers import plan_text, write_plan

from flows import cli
from kehoach.core.files import sha256_file

pytestmark = pytest.mark.prefect


def test_the_package_ships_the_audit_the_database_and_a_readme(prefect_harness, plan_path, tmp_path):
    from flows.pipeline import build_package

    out = tmp_path / "output"
    build_package(sources=[str(plan_path)], out=str(out))  # errors in the document never block publication
    desc = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    resources = {r["name"]: r for r in desc["resources"]}
    with (out / "data" / "findings.csv").open(encoding="utf-8") as handle:
        findings = list(csv.DictReader(handle))
    errors = [f for f in findings if f["severity"] == "error"]
    assert errors and resources["findings"]["rows"] == len(findings)
    assert any(f["rule_id"] == "budget_total_label" and f["expected"] == "224826" and f["actual"] == "256785.7"
               for f in errors)

    database = resources["database"]
    assert (database["type"], database["path"]) == ("file", "data/kehoach.duckdb")
    assert database["hash"] == f"sha256:{sha256_file(out / database['path'])}"
    assert desc["duckdb_version"] == database["duckdb_version"] == duckdb.__version__
    con = duckdb.connect(str(out / database["path"]), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM findings WHERE severity = 'error'").fetchall() == [(len(errors),)]
    finally:
        con.close()

    readme = (out / "README.md").read_text(encoding="utf-8")
    assert resources["readme"]["hash"] == f"sha256:{sha256_file(out / 'README.md')}"
    assert "Consistency audit" in readme and errors[0]["message_en"] in readme
    assert f"{len(errors)} error(s)" in desc["description_en"] and f"{len(errors)} lỗi" in desc["description_vi"]


def test_strict_fails_in_one_line_and_keeps_the_previous_package(prefect_harness, tmp_path, capsys):
    out = tmp_path / "output"
    plan = write_plan(tmp_path, plan_text(), "qni-219-KH-UBND-2023.txt")
    assert cli.main(["build", str(plan), "--out", str(out)]) == 0
    before = (out / "datapackage.json").read_bytes()
    capsys.readouterr()

    assert cli.main(["build", str(plan), "--out", str(out), "--strict"]) == 2
    err = capsys.readouterr().err
    [line] = [x for x in err.splitlines() if "--strict" in x]
    assert line.startswith(f"{plan}:") and ": --strict: the audit found " in line
    assert "Traceback" not in err
    assert (out / "datapackage.json").read_bytes() == before
    # nothing staged is left behind (the lock file stays: removing it would race)
    assert [p.name for p in tmp_path.glob(".output.*")] == [".output.lock"]
