"""The landing page's paragraphs on time: what the province covered on each plan's
issue date (provinces changed on 1 July 2025), and, for a plan that follows
another, what changed since it (``task_lineage``): tasks carried over,
reworded, renumbered, new and dropped, the new and dropped ones named."""

from __future__ import annotations

from collections import Counter
from html import escape

from kehoach.core.model import Tables
from kehoach.core.places import coverage_vi_en, province_on

# Tasks named in each list (new, dropped) before the rest is counted.
NAMED_TASKS = 20
CHANGES = (("same", "giữ nguyên", "unchanged"), ("renumbered", "đổi số thứ tự", "renumbered"),
           ("reworded", "diễn đạt lại", "reworded"), ("reworded_renumbered", "diễn đạt lại và đổi số thứ tự",
                                                      "reworded and renumbered"),
           ("new", "mới", "new"), ("dropped", "không còn", "dropped"))


def _names(codes: list[str], names: dict[str, str]) -> str:
    items = "".join(f"<li>{escape(c)} {escape(names.get(c) or '')}</li>" for c in codes[:NAMED_TASKS])
    more = (f"<li>… {len(codes) - NAMED_TASKS} nữa <span class=en>/ more</span></li>"
            if len(codes) > NAMED_TASKS else "")
    return f"<ul>{items}{more}</ul>"


def _since_previous(plan: dict, tables: Tables) -> str:
    lineage = [r for r in tables["task_lineage"].to_pylist() if r["plan_id"] == plan["plan_id"]]
    cited = escape(plan["previous_plan_number"] or "")
    parts = [f"<p>Kế hoạch {escape(plan['number'])} tiếp nối Kế hoạch {cited}. "
             f"<span class=en>/ Plan {escape(plan['number'])} follows plan {cited}.</span></p>"]
    if not lineage:
        parts.append("<p>Kế hoạch trước không có trong gói dữ liệu này. "
                     "<span class=en>/ The previous plan is not in this package.</span></p>")
        return "\n".join(parts)
    tally = Counter(r["change"] for r in lineage)
    counted = "; ".join(f"{tally[c]} {vi}" for c, vi, _ in CHANGES if tally[c])
    counted_en = "; ".join(f"{tally[c]} {en}" for c, _, en in CHANGES if tally[c])
    parts.append(f"<p>Nhiệm vụ so với kế hoạch trước: {escape(counted)}. "
                 f"<span class=en>/ Tasks against the previous plan: {escape(counted_en)}.</span></p>")
    names = {t["task_code"]: t["name"] for t in tables["tasks"].to_pylist() if t["plan_id"] == plan["plan_id"]}
    new = [r["task_code"] for r in lineage if r["change"] == "new"]
    if new:
        parts.append(f"<h3>Nhiệm vụ mới <span class=en>/ New tasks</span></h3>{_names(new, names)}")
    dropped = [r for r in lineage if r["change"] == "dropped"]
    if dropped:
        parts.append("<h3>Nhiệm vụ không còn <span class=en>/ Dropped tasks</span></h3>"
                     + _names([r["previous_task_code"] for r in dropped],
                              {r["previous_task_code"]: r["previous_task_name"] for r in dropped}))
    parts.append('<p>Chi tiết: bảng <a href="#table-task_lineage"><code>task_lineage</code></a>. '
                 '<span class=en>/ Details: the <code>task_lineage</code> table.</span></p>')
    return "\n".join(parts)


def over_time(tables: Tables) -> str:
    """The paragraphs, after the plans' table: the province on the plans' issue dates (once per
    territory), and what changed since the plan followed (a corpus: its first ``NAMED_TASKS`` plans
    that follow one of its plans, then how many more)."""
    plans = tables["plans"].to_pylist()
    parts, territories = [], set()
    for plan in plans:
        found = province_on(plan["province"], plan["issued_date"]) if plan.get("province") else None
        if found and (found.code, found.valid_from) not in territories:
            territories.add((found.code, found.valid_from))
            vi, en = coverage_vi_en(plan["province"], plan["issued_date"])
            parts.append(f"<p>{escape(vi)} <span class=en>/ {escape(en)}</span></p>")
    following = [p for p in plans if p.get("previous_plan_number") and (len(plans) == 1 or p.get("previous_plan_id"))]
    parts += [_since_previous(plan, tables) for plan in following[:NAMED_TASKS]]
    if len(following) > NAMED_TASKS:
        parts.append(f"<p>… {len(following) - NAMED_TASKS} kế hoạch nữa tiếp nối một kế hoạch của gói (bảng "
                     f"<code>task_lineage</code>). <span class=en>/ {len(following) - NAMED_TASKS} more plans follow a "
                     "plan of the package (the <code>task_lineage</code> table).</span></p>")
    return "\n".join(parts)
