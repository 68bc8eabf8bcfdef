"""A corpus too large for a spreadsheet ships no workbook (its plans' datasets do); its README and
landing page list some of its findings, not thousands."""

import json
from html import unescape

import pyarrow.parquet as pq

from kehoach import build
from kehoach.package import readme, workbook


def test_a_large_corpus_ships_no_workbook(tmp_path, plan_source, monkeypatch):
    monkeypatch.setattr(workbook, "MAX_CELLS", 1000)  # the real plan has far more cells
    out = tmp_path / "output"
    build.run_build([plan_source.path], out)
    assert not (out / workbook.WORKBOOK_FILE).exists()
    desc = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert workbook.WORKBOOK_RESOURCE not in {r["name"] for r in desc["resources"]}
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "too large for an Excel workbook" in readme and "kehoach.xlsx" not in readme


def test_a_corpus_lists_some_findings_of_each_severity_and_counts_the_rest(tmp_path, plan_source, monkeypatch):
    """A corpus's findings run to thousands: the README and the landing page list the first of each
    severity and say how many more the findings table holds (a plan's few are all listed)."""
    monkeypatch.setattr(readme, "LISTED_FINDINGS", 2)  # the real plan has more findings than this of a severity
    out = tmp_path / "output"
    build.run_build([plan_source.path], out)
    findings = pq.read_table(out / "data" / "findings.parquet").to_pylist()
    # the audit's sections (the tables' previews show findings too)
    text = (out / "README.md").read_text(encoding="utf-8").split("## Kiểm tra tính nhất quán")[1].split("\n## ")[0]
    page = unescape((out / "index.html").read_text(encoding="utf-8").split('<section id="findings">')[1]
                    .split("</section>")[0])
    cut = 0
    for severity in ("error", "warning", "info"):
        chosen = [f for f in findings if f["severity"] == severity]
        for f in chosen[:2]:
            assert f["message_en"] in text and f["message_en"] in page
        for f in chosen[2:]:
            assert f["message_en"] not in text and f["message_en"] not in page
        if len(chosen) > 2:
            cut += 1
            more = f"… and {len(chosen) - 2} more in the `findings` table (data/findings.csv)"
            assert more in text and more.replace("`", "") in page
    assert cut >= 1
