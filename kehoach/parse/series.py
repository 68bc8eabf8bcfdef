"""Plans across time: which plan a plan follows (a series), found by structure.

A plan of a series cites the plan it follows ('Kế hoạch 189/KH-UBND năm 2022
về Chuyển đổi số tỉnh Quảng Ngãi năm 2023' in the 2024 plan). The predecessor
is the document of the same issuer and document type whose title, once its
years, number and document type are set aside, is this plan's title (its
*family*), and whose period ends the year before this plan's begins. Numbers
restart every year and say nothing of a series, so they are never compared:
the cited number is kept (``plans.previous_plan_number``), and in a corpus
``link_series`` links the plans by the same structural test
(``plans.previous_plan_id``), then their tasks (``kehoach.parse.lineage``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from datetime import date

import pyarrow as pa

from kehoach.core.model import Tables, rows_to_arrow
from kehoach.core.text import fold, key
from kehoach.parse.layout import PlanHeader, plan_period
from kehoach.parse.legal_documents import DocRef
from kehoach.parse.lineage import lineage_rows

_YEARS = re.compile(r"\b(?:nam\s+)?\d{4}\b")
_LEADING = re.compile(r"^(?:ve|thuc hien)\s+")


def family(title: str, doc_type: str | None, number: str | None = None) -> str:
    """What a title says once its years, its number and its document type are set aside:
    'Kế hoạch 189/KH-UBND năm 2022 về Chuyển đổi số tỉnh Quảng Ngãi năm 2023' and
    'Kế hoạch chuyển đổi số tỉnh Quảng Ngãi năm 2024' -> 'chuyen doi so tinh quang ngai'."""
    text = fold(key(title))
    if number:
        text = text.replace(fold(key(number)), " ")
    kind = fold(key(doc_type or ""))
    if kind and text.startswith(kind):
        text = text[len(kind):]
    text = " ".join(_YEARS.sub(" ", text).split())
    return _LEADING.sub("", text).strip(" ,.:")


def follows(first_end: int | None, then_start: int | None) -> bool:
    """Whether a period ending in ``first_end`` is the one just before a period starting in ``then_start``."""
    return first_end is not None and then_start is not None and first_end == then_start - 1


def cited_predecessor(header: PlanHeader, documents: Iterable[DocRef],
                      first_lines: dict[str, int]) -> tuple[str, int] | None:
    """(number, line of its first citation) of the plan ``header``'s plan follows, among the
    documents it cites (``first_lines``: doc_id -> first line citing it); None when it cites none."""
    own = family(header.title, header.doc_type)
    found = []
    for doc in documents:
        if (doc.doc_id not in first_lines or doc.doc_type != header.doc_type or not doc.number or not doc.title
                or key(doc.issuer or "") != key(header.issuer) or family(doc.title, doc.doc_type, doc.number) != own):
            continue
        _, end, _ = plan_period(_after_number(doc.title, doc.number), doc.year or header.issued_date.year)
        if follows(end, header.period_start) and (doc.issued_date is None or doc.issued_date <= header.issued_date):
            found.append((first_lines[doc.doc_id], doc.number))
    if not found:
        return None
    line, number = min(found)
    return number, line


def _after_number(title: str, number: str) -> str:
    """A citation's title after its number and the year of issue ('… 189/KH-UBND năm 2022 về X năm 2023'
    -> 'về X năm 2023'): the period is the document's subject's, not its date's."""
    rest = title.split(number, 1)[-1]
    return re.sub(r"^\s*năm\s+\d{4}\s*", "", rest, flags=re.IGNORECASE)


def predecessors(plans: list[dict]) -> dict[str, str]:
    """plan_id -> the plan of the list it follows: same issuer, document type and family, the period
    ending the year before (the latest issued when several), issued on or before its day."""
    groups: dict[tuple, list[dict]] = {}
    for plan in plans:
        groups.setdefault((key(plan["issuer"]), plan["doc_type"], family(plan["title"], plan["doc_type"])),
                          []).append(plan)
    found = {}
    for members in groups.values():
        # period_end -> (issue date, plan_id) sorted: the latest issued before a plan is found by bisection,
        # not by comparing every pair of a corpus of one family
        ending: dict[int, list[tuple[date, str]]] = {}
        for plan in members:
            ending.setdefault(plan["period_end"], []).append((_issued(plan), plan["plan_id"]))
        for candidates in ending.values():
            candidates.sort()
        for plan in members:
            if plan["period_start"] is None:
                continue
            candidates = ending.get(plan["period_start"] - 1, [])  # never the plan itself: its period ends later
            at = bisect.bisect_right(candidates, (_issued(plan), _LAST))  # issued on or before the plan's day
            if at:
                found[plan["plan_id"]] = candidates[at - 1][1]
    return found


_LAST = "\U0010ffff"  # after every plan_id: a plan issued the same day as the one it precedes is found


def _issued(plan: dict) -> date:
    return plan["issued_date"]


_SERIES_FIELDS = ("plan_id", "issuer", "doc_type", "title", "issued_date", "period_start", "period_end")


# The tables ``link_series`` makes from the whole corpus: a plan's rows in them are not its entry's alone.
CORPUS_TABLES = ("plans", "task_lineage")


def link_series(tables: Tables) -> Tables:
    """A corpus's plans linked to the plans they follow (``plans.previous_plan_id``), and their
    tasks to the tasks they continue (``task_lineage``); the tables as they were when no plan
    follows another."""
    plans = tables["plans"]
    rows = plans.select(list(_SERIES_FIELDS)).to_pylist()
    previous = predecessors(rows)
    if not previous:
        return tables
    ids = plans.column("plan_id").to_pylist()
    index = plans.schema.get_field_index("previous_plan_id")
    column = pa.array([previous.get(p) for p in ids], plans.schema.field(index).type)
    tasks = tables["tasks"].select(["plan_id", "task_code", "name", "pillar", "source_line"]).to_pylist()
    by_plan: dict[str, list[dict]] = {}
    for task in tasks:
        by_plan.setdefault(task["plan_id"], []).append(task)
    lineage = [row for plan_id in ids if plan_id in previous
               for row in lineage_rows(plan_id, previous[plan_id], by_plan.get(plan_id, []),
                                       by_plan.get(previous[plan_id], []))]
    return tables | {"plans": plans.set_column(index, plans.schema.field(index), column),
                     "task_lineage": rows_to_arrow("task_lineage", lineage)}
