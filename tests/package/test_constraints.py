"""The DuckDB-compiled Table Schema checks give Frictionless's verdicts.

A two-table package declares every kind of constraint; each case breaks one
of them in the CSV and the pipeline (``kehoach.package.constraints``) must
find the same errors, in the same resources and rows, as Frictionless.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from frictionless import Package, system

from kehoach.package.constraints import check_csv_resources

PARENT = {
    "fields": [
        {"name": "id", "type": "integer", "constraints": {"required": True}},
        {"name": "code", "type": "string", "constraints": {"pattern": "^[A-Z]{2}$", "unique": True}},
        {"name": "kind", "type": "string", "constraints": {"enum": ["a", "b"]}},
        {"name": "amount", "type": "number", "constraints": {"minimum": 0, "maximum": 100}},
        {"name": "day", "type": "date", "format": "default"},
        {"name": "flag", "type": "boolean"},
        {"name": "label", "type": "string", "constraints": {"minLength": 2, "maxLength": 10}},
    ],
    "primaryKey": ["id"],
    "missingValues": [""],
}
CHILD = {
    "fields": [
        {"name": "id", "type": "integer", "constraints": {"required": True}},
        {"name": "parent_id", "type": "integer", "constraints": {"required": True}},
        {"name": "source_line", "type": "integer", "constraints": {"minimum": 1}},
    ],
    "primaryKey": ["id"],
    "foreignKeys": [{"fields": ["parent_id"], "reference": {"resource": "parent", "fields": ["id"]}}],
    "missingValues": [""],
}
PARENT_CSV = ("id,code,kind,amount,day,flag,label\n1,AB,a,10.5,2024-01-31,true,one\n2,CD,b,0,,false,two\n"
              "3,EF,,100,2023-12-20,1,\n")
CHILD_CSV = "id,parent_id,source_line\n1,1,5\n2,1,6\n3,3,\n"

# (table, row to replace (1-based data row), new row) -> one broken constraint each
CASES = {
    "valid": None,
    "type integer": ("parent", 2, "2.5,CD,b,0,,false,two"),
    "type number": ("parent", 1, "1,AB,a,ten,2024-01-31,true,one"),
    "type date": ("parent", 1, "1,AB,a,10.5,2024-13-01,true,one"),
    "type boolean": ("parent", 1, "1,AB,a,10.5,2024-01-31,yes,one"),
    "required": ("child", 2, "2,,6"),
    "enum": ("parent", 2, "2,CD,c,0,,false,two"),
    "pattern": ("parent", 2, "2,Cd,b,0,,false,two"),
    "minimum": ("parent", 2, "2,CD,b,-0.5,,false,two"),
    "maximum": ("parent", 2, "2,CD,b,100.01,,false,two"),
    "minimum integer": ("child", 1, "1,1,0"),
    "minLength": ("parent", 2, "2,CD,b,0,,false,t"),
    "maxLength": ("parent", 2, "2,CD,b,0,,false,twelve chars"),
    "unique": ("parent", 2, "2,AB,b,0,,false,two"),
    "primary key": ("parent", 3, "1,EF,,100,2023-12-20,1,"),
    "primary key, typed": ("child", 3, "01,3,"),
    "foreign key": ("child", 3, "3,4,"),
}


def write_package(directory: Path, case: tuple[str, int, str] | None) -> Path:
    texts = {"parent": PARENT_CSV, "child": CHILD_CSV}
    if case:
        table, row, new = case
        lines = texts[table].splitlines()
        lines[row] = new
        texts[table] = "\n".join(lines) + "\n"
    resources = []
    for name, schema in (("parent", PARENT), ("child", CHILD)):
        (directory / f"{name}.csv").write_text(texts[name], encoding="utf-8")
        resources.append({"name": name, "path": f"{name}.csv", "format": "csv", "schema": schema})
    (directory / "datapackage.json").write_text(json.dumps({"name": "t", "resources": resources}), encoding="utf-8")
    return directory


def frictionless_verdict(directory: Path) -> set[tuple[str, str, int | None]]:
    with system.use_context(trusted=True):
        report = Package(str(directory / "datapackage.json")).validate()
    return {(task.name, error.type, getattr(error, "row_number", None))
            for task in report.tasks for error in task.errors}


def pipeline_verdict(directory: Path) -> set[tuple[str, str, int | None]]:
    resources = json.loads((directory / "datapackage.json").read_text(encoding="utf-8"))["resources"]
    return {(v.resource, v.kind, v.row) for v in check_csv_resources(directory, resources)}


@pytest.mark.parametrize("case", list(CASES))
def test_same_verdict_as_frictionless(tmp_path, case):
    directory = write_package(tmp_path, CASES[case])
    expected = frictionless_verdict(directory)
    assert (case == "valid") == (not expected)  # the case breaks exactly what it says
    assert pipeline_verdict(directory) == expected


def test_violation_carries_the_source_line(tmp_path):
    directory = write_package(tmp_path, ("child", 2, "2,9,6"))
    (violation,) = check_csv_resources(directory, json.loads(
        (directory / "datapackage.json").read_text(encoding="utf-8"))["resources"])
    assert (violation.kind, violation.row, violation.source_line) == ("foreign-key", 3, 6)
