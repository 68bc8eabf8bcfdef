"""The figures of the landing page: its four charts, queried in DuckDB.

The tables are loaded as the shipped database loads them and the views of
``kehoach/audit/views.sql`` are created, so the charts use the same views a
reader of ``data/kehoach.duckdb`` queries (``budget_by_pillar_level``,
``tasks_with_agencies``, the budget column names). Nothing here names a plan,
an area or an agency: every label comes from the tables.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from kehoach.audit.duckdb_tables import attach_tables, create_views
from kehoach.core.duckdb_memory import SHARED, bounded
from kehoach.core.model import Tables
from kehoach.package.charts import Chart

# Bars beyond this many agencies are summed into one "other agencies" bar.
TOP_AGENCIES = 15
BUDGET_CHART = "budget_by_area_level"

BUDGET_SQL = """
WITH lines AS (
    -- cells of a single level and type: 'all' columns restate their parts (no double counting)
    SELECT * FROM budget_by_pillar_level
    WHERE budget_level <> 'all' AND expenditure_type <> 'all'
)
SELECT coalesce(pillar_name_vi, pillar, '?') || coalesce(' / ' || pillar_name_en, '') AS category,
       budget_column_vi(budget_level, expenditure_type) || ' / ' || budget_column_en(budget_level, expenditure_type)
           AS series,
       sum(amount_million_vnd) AS amount
FROM lines
GROUP BY ALL
"""

PHASING_SQL = """
SELECT CAST(year AS VARCHAR) AS category, sum(amount_million_vnd) AS amount
FROM investment_lines
GROUP BY ALL
ORDER BY category
"""

AGENCY_SQL = """
SELECT coalesce(agency_name_vi, mention) AS agency, count(DISTINCT plan_id || '#' || task_code) AS tasks
FROM tasks_with_agencies
WHERE role = 'lead'
GROUP BY ALL
ORDER BY tasks DESC, agency
"""

DEADLINE_SQL = """
SELECT strftime(deadline_date, '%Y-%m') AS month, count(*) AS tasks
FROM tasks
WHERE deadline_date IS NOT NULL
GROUP BY ALL
ORDER BY month
"""

UNDATED_SQL = "SELECT count(*) FROM tasks WHERE deadline_date IS NULL"


def connect(con: duckdb.DuckDBPyConnection, tables: Tables) -> duckdb.DuckDBPyConnection:
    """``con`` with every table and the shared views. A corpus's large tables are read a batch at a time
    at each scan: their pages, mapped, stayed resident while the charts were drawn beside the stage's other
    work (20,000 plans: 1 GB of them; the charts alone peaked at 1.9 GB, 0.9 GB read anew at each scan)."""
    attach_tables(con, tables, by_batches=True)
    create_views(con)
    return con


def _ordered(rows: list[tuple], key: int) -> list:
    """Distinct values of column ``key`` in first-seen order."""
    return list(dict.fromkeys(r[key] for r in rows))


def budget_chart(con: duckdb.DuckDBPyConnection) -> Chart:
    # the cells once, for the three queries below (a corpus's budget views cost a query each time)
    con.execute(f"CREATE OR REPLACE TEMP TABLE budget_cells AS {BUDGET_SQL}")
    rows = con.execute("SELECT * FROM budget_cells").fetchall()
    # areas in the order of the document (the view's order), largest budget column first
    categories = _ordered(con.execute(
        "SELECT category FROM budget_cells GROUP BY category ORDER BY sum(amount) DESC, category").fetchall(), 0)
    # columns stated only as '-' (zero) draw nothing: left out of the legend too
    series = _ordered(con.execute(
        "SELECT series FROM budget_cells GROUP BY series HAVING sum(amount) <> 0 "
        "ORDER BY sum(amount) DESC, series").fetchall(), 0)
    cells = {(r[0], r[1]): r[2] for r in rows}
    values = [[cells.get((c, s), 0) for c in categories] for s in series]
    return Chart(BUDGET_CHART, "Kinh phí theo lĩnh vực và cấp ngân sách",
                 "Budget by area and budget level", "triệu đồng", "million VND", categories, series, values,
                 note_vi="Tổng các ô kinh phí được ghi trong phụ lục (khái toán, chưa phải dự toán được giao).",
                 note_en="Sum of the budget cells stated in the appendix (estimates, not allocations).")


def phasing_chart(con: duckdb.DuckDBPyConnection) -> Chart:
    rows = con.execute(PHASING_SQL).fetchall()
    return Chart("investment_phasing_by_year", "Phân kỳ đầu tư phát triển theo năm",
                 "Development investment phased by year", "triệu đồng", "million VND",
                 [r[0] for r in rows], ["triệu đồng / million VND"], [[r[1] for r in rows]], vertical=True,
                 note_vi="Tổng vốn từng năm của các hạng mục đầu tư phát triển.",
                 note_en="Yearly amounts of the development-investment items, summed.")


def agency_chart(con: duckdb.DuckDBPyConnection) -> Chart:
    rows = con.execute(AGENCY_SQL).fetchall()
    shown, rest = rows[:TOP_AGENCIES], rows[TOP_AGENCIES:]
    categories, counts = [r[0] for r in shown], [r[1] for r in shown]
    if rest:
        categories.append(f"{len(rest)} cơ quan khác / other agencies")
        counts.append(sum(r[1] for r in rest))
    return Chart("tasks_per_lead_agency", "Số nhiệm vụ theo cơ quan chủ trì", "Tasks per lead agency",
                 "nhiệm vụ", "tasks", categories, ["nhiệm vụ / tasks"], [counts],
                 note_vi="Một nhiệm vụ có nhiều cơ quan chủ trì được đếm cho mỗi cơ quan.",
                 note_en="A task with several lead agencies counts once for each of them.")


def _months(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` ('2024-03' .. '2025-12'), so gaps show as empty."""
    year, month = map(int, first.split("-"))
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def deadline_chart(con: duckdb.DuckDBPyConnection) -> Chart:
    counts = dict(con.execute(DEADLINE_SQL).fetchall())
    undated = con.execute(UNDATED_SQL).fetchone()[0]
    months = _months(min(counts), max(counts)) if counts else []
    return Chart("deadlines_by_month", "Thời hạn hoàn thành nhiệm vụ theo tháng", "Task deadlines by month",
                 "nhiệm vụ", "tasks", months, ["nhiệm vụ / tasks"], [[counts.get(m, 0) for m in months]],
                 vertical=True,
                 note_vi=f"Tháng của ngày muộn nhất mà thời hạn cho phép; {undated} nhiệm vụ không có ngày "
                         "(thường xuyên, hằng năm, …).",
                 note_en=f"Month of the latest date the deadline allows; {undated} tasks have no date "
                         "(ongoing, yearly, …).")


def charts(tables: Tables, directory: Path) -> list[Chart]:
    """The landing page's charts, in the order it shows them; empty ones are left out. Drawn while the
    DuckDB file is written (``kehoach.package.pending``), within half of the DuckDB budget, spilling
    into the package's ``directory``; once it is written when it has the whole budget (a large corpus:
    the ledger of ``kehoach.core.duckdb_memory``). 20,000 plans: unbounded, its queries added 0.7 GB
    to the flow's peak, beside the DuckDB file's 1.5 GB."""
    with bounded(directory, SHARED) as con:
        connect(con, tables)
        drawn = [budget_chart(con), phasing_chart(con), agency_chart(con), deadline_chart(con)]
    return [c for c in drawn if not c.empty]
