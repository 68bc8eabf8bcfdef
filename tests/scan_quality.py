"""How well a scan of a plan reads: its task rows and budget amounts against the text's (issue 24's acceptance).

One measure for the OCR test (tests/read/test_scan.py, a few pages) and the benchmark (scripts/benchmark.py,
the whole plan): a task row is exact when every value but its provenance is the text's; a budget amount
(by item, budget level and expenditure type) is exact, flagged (another value, its row marked
``needs_review``), wrong (another value, not flagged) or missing (its row not read). Where the rows given hold
the legal bases (the benchmark's), the legal bases read (the document the text's names, found) are counted.
"""

from __future__ import annotations

from dataclasses import dataclass

PROVENANCE = {"source_line", "source_page", "needs_review", "ocr_confidence"}
BUDGET_KEY = ("item_code", "budget_level", "expenditure_type")


@dataclass(frozen=True)
class ScanQuality:
    tasks: int
    tasks_exact: int
    amounts: int
    amounts_exact: int
    amounts_flagged: int
    amounts_wrong: int
    amounts_missing: int
    wrong: tuple[dict, ...] = ()  # the budget rows read wrong and not flagged, as read
    legal_bases: int = 0  # the text's legal bases, and those the scan names the same document for
    legal_bases_read: int = 0

    @property
    def tasks_share(self) -> float:
        return self.tasks_exact / self.tasks if self.tasks else 0.0

    def line(self) -> str:
        return (f"{self.tasks_exact}/{self.tasks} task rows exact ({100 * self.tasks_share:.1f} %), "
                f"budget amounts: {self.amounts_exact} exact, {self.amounts_flagged} flagged, "
                f"{self.amounts_wrong} wrong, {self.amounts_missing} missing (of {self.amounts})"
                + (f", legal bases read: {self.legal_bases_read}/{self.legal_bases}" if self.legal_bases else ""))


def without_provenance(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in PROVENANCE}


def scan_quality(text: dict[str, list[dict]], scanned: dict[str, list[dict]],
                 pages: set[int] | None = None) -> ScanQuality:
    """The scan's rows (``scanned``: table name -> rows) against the text's, on ``pages`` (all: None)."""
    def on(rows: list[dict]) -> list[dict]:
        return [r for r in rows if pages is None or r["source_page"] in pages]

    expected = [without_provenance(r) for r in on(text["tasks"])]
    got = [without_provenance(r) for r in on(scanned["tasks"])]
    by_key = {tuple(r[k] for k in BUDGET_KEY): r for r in scanned["budget_lines"]}
    exact = flagged = missing = 0
    wrong = []
    for row in on(text["budget_lines"]):
        found = by_key.get(tuple(row[k] for k in BUDGET_KEY))
        if found is None:
            missing += 1
        elif found["amount_million_vnd"] == row["amount_million_vnd"]:
            exact += 1
        elif found["needs_review"]:
            flagged += 1
        else:
            wrong.append(found)
    # an amount read on the scanned pages that the text does not have at all is wrong too, unless flagged
    written = {tuple(r[k] for k in BUDGET_KEY) for r in text["budget_lines"]}
    wrong += [r for r in on(scanned["budget_lines"]) if tuple(r[k] for k in BUDGET_KEY) not in written
              and not r["needs_review"]]
    bases = [r["doc_id"] for r in on(text.get("legal_bases", []))]
    read = [r["doc_id"] for r in scanned.get("legal_bases", [])]
    return ScanQuality(len(expected), sum(1 for row in expected if row in got), len(on(text["budget_lines"])),
                       exact, flagged, len(wrong), missing, tuple(wrong), len(bases),
                       sum(1 for doc in bases if doc in read))
