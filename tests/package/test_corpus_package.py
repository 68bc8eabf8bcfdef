"""A corpus too large for a spreadsheet ships no workbook (its plans' datasets do)."""

import json

from kehoach import build
from kehoach.package import workbook


def test_a_large_corpus_ships_no_workbook(tmp_path, plan_source, monkeypatch):
    monkeypatch.setattr(workbook, "MAX_CELLS", 1000)  # the real plan has far more cells
    out = tmp_path / "output"
    build.run_build([plan_source.path], out)
    assert not (out / workbook.WORKBOOK_FILE).exists()
    desc = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert workbook.WORKBOOK_RESOURCE not in {r["name"] for r in desc["resources"]}
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "too large for an Excel workbook" in readme and "kehoach.xlsx" not in readme
