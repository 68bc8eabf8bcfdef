"""Tasks across a plan series: each task of a plan linked to the task of the
previous plan it continues, one to one (``task_lineage``).

A pair of tasks scores, out of 100, the similarity of their names (rapidfuzz:
the mean of the token-sort and token-set ratios, years masked so that 'Tuần lễ
Chuyển đổi số năm 2024' continues as '… năm 2025'), weighed with the same area
(pillar) and a near position in the task list. Tasks whose names compare equal
(each name once in either plan) are linked first, without comparing them with the
others (most tasks of a series: 0.45 s -> 0.08 s for the two links of the
generated series, on a shared machine). The rest are assigned greedily: pairs
by descending score, ties by position (the earlier task of the plan, then of the
previous plan, first), each task taken once. scipy's optimal assignment is not
installed, and on task lists the greedy choice is the same where it matters: a
continued task is, by far, most like the task it continues (measured on the
generated series, ``tests/series.py``: no wrong link). Below ``THRESHOLD`` a
task is new; a previous task left over is dropped.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process, utils

from kehoach.core.text import key

# Weights of a pair's score: the names, the same area, a near position (they sum to 100).
NAME_WEIGHT = 80
AREA_WEIGHT = 10
POSITION_WEIGHT = 10
# Pairs scoring less are not the same task: on the generated series (``tests/series.py``) continued
# tasks, reworded ones included, score 81-100 and the best candidate of a new task 55-64.
THRESHOLD = 70
_YEAR = re.compile(r"\b(19|20)\d{2}\b")


def comparable(name: str) -> str:
    """A task's name as compared: its key, years masked, rapidfuzz's default processing."""
    return utils.default_process(_YEAR.sub("#", key(name)))


def name_scores(current: list[str], previous: list[str]) -> list[list[float]]:
    """Name similarity (0-100) of each current name against each previous one."""
    a, b = [comparable(n) for n in current], [comparable(n) for n in previous]
    sort = process.cdist(a, b, scorer=fuzz.token_sort_ratio, workers=1)
    bag = process.cdist(a, b, scorer=fuzz.token_set_ratio, workers=1)
    return ((sort + bag) / 2).tolist()


def _score(name: float, current: dict, previous: dict, i: int, j: int, n: int, m: int) -> float:
    """A pair's score out of 100: its names' similarity, the same area, positions ``i``/``n`` and ``j``/``m``."""
    return (NAME_WEIGHT * name / 100 + AREA_WEIGHT * (current["pillar"] is not None
                                                      and current["pillar"] == previous["pillar"])
            + POSITION_WEIGHT * (1 - abs(i / n - j / m)))


def same_names(current: list[dict], previous: list[dict]) -> dict[int, int]:
    """Current index -> previous index of the tasks whose names compare equal, each name once on
    both sides: the same task (most of a series), linked without comparing it with every other."""
    def unique(tasks: list[dict]) -> dict[str, int]:
        seen: dict[str, list[int]] = {}
        for i, task in enumerate(tasks):
            seen.setdefault(comparable(task["name"]), []).append(i)
        return {name: found[0] for name, found in seen.items() if len(found) == 1}

    before = unique(previous)
    return {i: before[name] for name, i in unique(current).items() if name in before}


def pair_scores(current: list[dict], previous: list[dict], rows: list[int], columns: list[int]) -> list[list[float]]:
    """The scores of the current tasks ``rows`` against the previous tasks ``columns`` (positions
    relative to the whole lists)."""
    if not rows or not columns:
        return [[] for _ in rows]
    names = name_scores([current[i]["name"] for i in rows], [previous[j]["name"] for j in columns])
    n, m = max(len(current) - 1, 1), max(len(previous) - 1, 1)
    return [[_score(names[a][b], current[i], previous[j], i, j, n, m) for b, j in enumerate(columns)]
            for a, i in enumerate(rows)]


def assign(scores: list[list[float]], threshold: float = THRESHOLD) -> dict[int, tuple[int, float]]:
    """Current index -> (previous index, score): pairs by descending score, ties by position, each
    index taken once, none below ``threshold``."""
    pairs = sorted(((-s, i, j) for i, row in enumerate(scores) for j, s in enumerate(row) if s >= threshold))
    taken: dict[int, tuple[int, float]] = {}
    used: set[int] = set()
    for negative, i, j in pairs:
        if i not in taken and j not in used:
            taken[i] = (j, -negative)
            used.add(j)
    return taken


def change(current: dict, previous: dict) -> str:
    """same, renumbered, reworded or reworded_renumbered."""
    same_name = comparable(current["name"]) == comparable(previous["name"])
    same_code = current["task_code"] == previous["task_code"]
    if same_name:
        return "same" if same_code else "renumbered"
    return "reworded" if same_code else "reworded_renumbered"


def link(current: list[dict], previous: list[dict]) -> dict[int, tuple[int, float]]:
    """Current index -> (previous index, score): same names first, then the rest by ``assign``."""
    n, m = max(len(current) - 1, 1), max(len(previous) - 1, 1)
    links = {i: (j, _score(100, current[i], previous[j], i, j, n, m)) for i, j in same_names(current, previous).items()}
    taken = {j for j, _ in links.values()}
    rows = [i for i in range(len(current)) if i not in links]
    columns = [j for j in range(len(previous)) if j not in taken]
    for a, (b, score) in assign(pair_scores(current, previous, rows, columns)).items():
        links[rows[a]] = (columns[b], score)
    return links


def lineage_rows(plan_id: str, previous_plan_id: str, current: list[dict], previous: list[dict]) -> list[dict]:
    """The ``task_lineage`` rows of a plan that follows ``previous_plan_id``: its tasks (linked, or
    new), then the previous plan's tasks no task continues (dropped)."""
    current = sorted(current, key=lambda t: t["source_line"])
    previous = sorted(previous, key=lambda t: t["source_line"])
    links = link(current, previous)
    rows = []
    for i, task in enumerate(current):
        j, score = links.get(i, (None, None))
        before = previous[j] if j is not None else None
        rows.append({"plan_id": plan_id, "lineage_key": task["task_code"], "task_code": task["task_code"],
                     "previous_plan_id": previous_plan_id,
                     "previous_task_code": before["task_code"] if before else None,
                     "previous_task_name": before["name"] if before else None,
                     "match_score": round(score) if score is not None else None,
                     "change": change(task, before) if before else "new"})
    continued = {j for j, _ in links.values()}
    rows += [{"plan_id": plan_id, "lineage_key": f"dropped:{task['task_code']}", "task_code": None,
              "previous_plan_id": previous_plan_id, "previous_task_code": task["task_code"],
              "previous_task_name": task["name"],
              "match_score": None, "change": "dropped"}
             for j, task in enumerate(previous) if j not in continued]
    return rows
