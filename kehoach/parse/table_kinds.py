"""What kind of appendix a table is, from its columns' roles (``reference/table_headers.csv``):
tasks, budget items, investments by year, or indicators (read by none of them)."""

from __future__ import annotations

from kehoach.parse.table_reader import PipeTable


def is_tasks(t: PipeTable) -> bool:
    """A deadline (one, or one per submission level) makes a task table; so does a lead unit without amounts
    (indicators a unit answers for)."""
    if t.column("deadline") or t.column("submission_deadline"):
        return True
    return t.column("lead_agencies") is not None and not t.columns_with("amount") and not t.column("amount_total")


def is_indicators(t: PipeTable) -> bool:
    """A column of units ('Đơn vị tính') beside targets or values by year, and no unit answering for them
    nor deadline: indicators to reach, neither tasks nor amounts (a budget states its unit above the table)."""
    return (t.column("unit") is not None and (t.column("target") is not None or values_by_year(t))
            and not t.column("lead_agencies") and not t.column("deadline") and not t.column("submission_deadline"))


def is_budget(t: PipeTable) -> bool:
    return any("year" not in c.attrs for c in t.columns_with("amount")) and not is_indicators(t)


def is_investments(t: PipeTable) -> bool:
    return values_by_year(t) and not is_indicators(t)


def values_by_year(t: PipeTable) -> bool:
    return any("year" in c.attrs for c in t.columns_with("amount"))


_KINDS = (("tasks", is_tasks), ("budget", is_budget), ("investments", is_investments), ("indicators", is_indicators))


def table_kinds(t: PipeTable) -> tuple[str, ...]:
    """The kinds a table is read as, in a fixed order: tables of the same kinds are parts of one list."""
    return tuple(name for name, accepts in _KINDS if accepts(t))
