"""Appendix tables -> rows of the package's resources.

One interpretation step for every table (which rows are groups, items and
totals, which area each row belongs to), then small builders chosen by the
table's columns, not by its position in the document:

- a deadline column makes it a table of tasks (``tasks``, ``task_agencies``);
- amount columns split by budget level / expenditure type make it a budget
  (``budget_items``, ``budget_lines``, ``budget_stated_totals``, …);
- amount columns split by year make it an investment phasing
  (``investments``, ``investment_lines``, ``investment_stated_totals``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal

from kehoach.core.errors import KehoachError
from kehoach.core.model import TableBuilder
from kehoach.parse.agencies import AgencyRegistry
from kehoach.parse.appendix_blocks import Appendix
from kehoach.parse.pillars import PillarCollector
from kehoach.parse.table_kinds import is_budget, is_indicators, is_investments, is_tasks
from kehoach.parse.table_reader import (
    Code,
    Column,
    PipeTable,
    Row,
    is_total_label,
    oversized_code,
    parse_code,
    total_label_number,
)
from kehoach.parse.values import Amount, Deadline, parse_amount, parse_deadline, to_million, unit_factor

log = logging.getLogger(__name__)


@dataclass
class LogicalRow:
    kind: str  # 'group', 'item' or 'total'
    row: Row
    code: Code | None
    key: str  # unique code within the table ('4.5', or '4.5-2' for a repeat)
    group: LogicalRow | None = None
    pillar: str | None = None
    children: list[LogicalRow] = field(default_factory=list)

    @property
    def line(self) -> int:
        return self.row.line

    @property
    def group_no(self) -> int | None:
        return self.group.code.parts[0] if self.group and self.group.code else None


@dataclass
class TableContext:
    plan_id: str
    path: str
    appendix: Appendix
    table: PipeTable
    agencies: AgencyRegistry
    pillars: PillarCollector
    out: dict[str, TableBuilder]
    factor: Decimal = Decimal(1)
    key_prefix: str = ""  # qualifies task codes when a plan has several task tables ('02/'), see task_table_prefixes
    plan_year: int | None = None  # a deadline naming a month alone ('Tháng 12') is of this year

    def cell(self, row: Row, column: Column | None) -> str:
        return row.text(column.index) if column else ""

    def amount(self, row: Row, column: Column) -> Amount:
        cell = row.cells[column.index]
        try:
            amount = parse_amount(cell.text)
            self.money(amount)  # refused here, on its line, when the package cannot hold it
        except KehoachError as exc:
            raise exc.located(self.path, cell.line) from None
        return amount

    def money(self, amount: Amount) -> Decimal | None:
        return to_million(amount.value, self.factor)


def interpret(ctx: TableContext) -> list[LogicalRow]:
    """Classify rows into groups, items and totals and attach areas."""
    table = ctx.table
    code_col, name_col = table.column("code"), table.column("name")
    if code_col is None or name_col is None:
        raise KehoachError("table has no row-number or name column", ctx.path, table.header_line)
    data_cols = [c for c in table.columns if c.role not in ("code", "name")]
    rows: list[LogicalRow] = []
    for row in table.rows:
        code_text, name = row.text(code_col.index), row.text(name_col.index)
        if not code_text:
            if is_total_label(name):
                rows.append(LogicalRow("total", row, None, "total"))
                continue
            if not any(c.text for c in row.cells):
                continue
            raise KehoachError(f"row has no number in column {code_col.labels[-1]!r}", ctx.path, row.line)
        code = parse_code(code_text)
        if code is None and (too_large := oversized_code(code_text)):
            raise KehoachError(too_large, ctx.path, row.line)
        if code is None:
            raise KehoachError(
                f"expected a row number in column {code_col.labels[-1]!r}, found {code_text[:40]!r} "
                "(cells may be out of step: check for a missing '|' line above)",
                ctx.path,
                row.line,
            )
        rows.append(LogicalRow("item", row, code, code.normalized))

    hierarchical = any(r.code and r.code.depth > 1 for r in rows)
    # Roman-numbered rows above arabic-numbered ones are the groups (I, 1, 2, …, II, 14, …).
    romans = {r.key for r in rows if r.code and r.code.roman}
    by_roman = bool(romans) and any(r.code and not r.code.roman for r in rows)
    group: LogicalRow | None = None
    for r in rows:
        if r.kind == "total":
            group = None
        elif (r.code.roman if by_roman else hierarchical and r.code.depth == 1):
            r.kind = "group"
            r.pillar = ctx.pillars.resolve(r.row.text(name_col.index), r.line)
            group = r
        else:
            r.group = group
            if group:
                group.children.append(r)
                r.pillar = group.pillar
    for r in rows:
        # A group row with figures but no items (e.g. 'Chi phí quản lý …') is itself an item.
        if r.kind == "group" and not r.children and any(r.row.text(c.index) for c in data_cols):
            r.kind, r.group = "item", r

    if by_roman and _restarts(rows):
        # Numbering starts again under each roman group (I: 1, 2 … II: 1, 2 …): the group qualifies the code.
        for r in rows:
            if r.kind == "item" and r.group is not None:
                r.key = f"{r.group.key}.{r.key}"
    seen: dict[str, int] = {}
    for r in rows:
        if r.kind == "item":
            count = seen.get(r.key, 0) + 1
            seen[r.key] = count
            if count > 1:
                r.key = f"{r.key}-{count}"
    return rows


def _restarts(rows: list[LogicalRow]) -> bool:
    """Whether an item number is used again under another group."""
    groups: dict[str, LogicalRow | None] = {}
    return any(r.kind == "item" and groups.setdefault(r.key, r.group) is not r.group for r in rows)


def task_table_prefixes(appendices: list[Appendix]) -> dict[int, str]:
    """Prefixes for task codes ('02/', '03.2/') keyed by ``id(table)``, when more than one table holds tasks.

    Each table numbers its rows from 1, so a plan with several task tables (a
    programme's appendices of drafts, proposals and indicators) needs the table
    in the key; a plan with one task table keeps its codes as written.
    """
    found = [(a, k, t) for a in appendices for k, t in enumerate(a.tables, 1) if is_tasks(t)]
    if len(found) < 2:
        return {}
    return {id(t): f"{a.label}.{k}/" if len(a.tables) > 1 else f"{a.label}/" for a, k, t in found}


# --- builders -----------------------------------------------------------------

def _add_mentions(ctx: TableContext, resource: str, code: str, cells: list[tuple[str, str, int]]) -> None:
    """cells: (role, cell text, line) for each agency column."""
    n = 0
    for role, text, line in cells:
        for mention in ctx.agencies.mentions(text):
            n += 1
            values = dict(plan_id=ctx.plan_id, mention_no=n, mention=mention.text,
                          agency_id=mention.agency_id, source_line=line)
            values["task_code" if resource == "task_agencies" else "item_code"] = code
            if "role" in ctx.out[resource]._known:
                values["role"] = role
            ctx.out[resource].add(**values)


def _agency_cells(ctx: TableContext, row: Row) -> list[tuple[str, str, int]]:
    cells = []
    for role, column_role in (("lead", "lead_agencies"), ("partner", "partner_agencies")):
        for col in ctx.table.columns_with(column_role):
            cell = row.cells[col.index]
            cells.append((role, cell.text, cell.line))
    return cells


def build_tasks(ctx: TableContext, rows: list[LogicalRow]) -> None:
    t = ctx.table
    name_col, lead_col, partner_col = t.column("name"), t.column("lead_agencies"), t.column("partner_agencies")
    for r in rows:
        if r.kind != "item":
            continue
        code = f"{ctx.key_prefix}{r.key}"
        deadline_text, deadline = _task_deadline(ctx, r.row)
        ctx.out["tasks"].add(
            plan_id=ctx.plan_id, task_code=code, task_code_text=r.code.text, group_no=r.group_no,
            pillar=r.pillar, name=ctx.cell(r.row, name_col),
            agencies_text=ctx.cell(r.row, lead_col) or None,
            partners_text=ctx.cell(r.row, partner_col) or None,
            output_text=ctx.cell(r.row, t.column("output")) or None,
            submitted_to=_labelled(ctx, r.row, ("submitted_to", "submission_deadline"), "level", values=False),
            target_text=_labelled(ctx, r.row, ("target",), None), target_unit=ctx.cell(r.row, t.column("unit")) or None,
            deadline_text=deadline_text or None, deadline_kind=deadline.kind, deadline_date=deadline.date,
            appendix=ctx.appendix.label, source_line=r.line,
        )
        _add_mentions(ctx, "task_agencies", code, _agency_cells(ctx, r.row))


def _task_deadline(ctx: TableContext, row: Row) -> tuple[str, Deadline]:
    """The deadline cell; or, where the table gives one date per submission level, each with its level."""
    column = ctx.table.column("deadline")
    stated = [c for c in ctx.table.columns_with("submission_deadline") if row.text(c.index)]
    if column is not None or not stated:
        deadline = _deadline(ctx, row, column)
        return deadline.text, deadline
    deadlines = [_deadline(ctx, row, c) for c in stated]  # each cell checked on its own line
    deadline = parse_deadline("; ".join(d.text for d in deadlines), ctx.plan_year)
    return _labelled(ctx, row, ("submission_deadline",), "level") or "", deadline


def _labelled(ctx: TableContext, row: Row, roles: tuple[str, ...], attr: str | None, values: bool = True) -> str | None:
    """The non-empty cells of the columns with these roles: the cell alone when the table has one such
    column, else each prefixed with its header ('Bộ trưởng: Tháng 02/2024; Chính phủ: Tháng 02/2024');
    with ``values=False`` only the headers of the filled columns ('Chính phủ' for an 'x' mark)."""
    columns = ctx.table.columns_in(roles)
    filled = [(c.attrs.get(attr) if attr else None) or c.labels[-1] for c in columns if row.text(c.index)]
    texts = [row.text(c.index) for c in columns if row.text(c.index)]
    if not values:
        return "; ".join(filled) or None
    if len(columns) == 1:
        return texts[0] if texts else None
    return "; ".join(f"{label}: {text}" for label, text in zip(filled, texts, strict=True)) or None


def _budget_columns(ctx: TableContext) -> list[Column]:
    """Amount columns not split by year; a dimension the header does not name is 'unspecified'."""
    columns = [c for c in ctx.table.columns_with("amount") if "year" not in c.attrs]
    for c in columns:
        c.attrs.setdefault("budget_level", "unspecified")
        c.attrs.setdefault("expenditure_type", "unspecified")
    seen = {(c.attrs["budget_level"], c.attrs["expenditure_type"]) for c in columns}
    if len(seen) != len(columns):
        raise KehoachError("budget columns do not differ by budget level or expenditure type",
                           ctx.path, ctx.table.header_line)
    return columns


def build_budget(ctx: TableContext, rows: list[LogicalRow]) -> None:
    t = ctx.table
    name_col, lead_col = t.column("name"), t.column("lead_agencies")
    columns = _budget_columns(ctx)
    grand = 0
    for r in rows:
        if r.kind == "item":
            ctx.out["budget_items"].add(
                plan_id=ctx.plan_id, item_code=r.key, item_code_text=r.code.text, group_no=r.group_no,
                pillar=r.pillar, name=ctx.cell(r.row, name_col), units_text=ctx.cell(r.row, lead_col) or None,
                appendix=ctx.appendix.label, source_line=r.line,
            )
            _add_mentions(ctx, "budget_item_agencies", r.key, _agency_cells(ctx, r.row))
            for col in columns:
                amount = ctx.amount(r.row, col)
                if amount.is_stated:
                    ctx.out["budget_lines"].add(
                        plan_id=ctx.plan_id, item_code=r.key, budget_level=col.attrs["budget_level"],
                        expenditure_type=col.attrs["expenditure_type"], amount_million_vnd=ctx.money(amount),
                        stated_as=amount.stated, amount_text=amount.text, source_line=r.row.cells[col.index].line,
                    )
            continue
        if r.kind == "group":
            total_id, scope, group_no, pillar = f"group-{r.key}", "group", r.code.parts[0], r.pillar
        else:
            grand += 1
            total_id = "grand" if grand == 1 else f"grand-{grand}"
            scope, group_no, pillar = "grand", None, None
        label = ctx.cell(r.row, name_col)
        base = dict(plan_id=ctx.plan_id, total_id=total_id, scope=scope, group_no=group_no, pillar=pillar,
                    label=label, appendix=ctx.appendix.label)
        for col in columns:
            amount = ctx.amount(r.row, col)
            if amount.is_stated:
                ctx.out["budget_stated_totals"].add(
                    **base, budget_level=col.attrs["budget_level"], expenditure_type=col.attrs["expenditure_type"],
                    amount_million_vnd=ctx.money(amount), stated_as=amount.stated, amount_text=amount.text,
                    source_line=r.row.cells[col.index].line)
        in_label = total_label_number(label) if r.kind == "total" else None
        if in_label:
            amount = _label_amount(ctx, in_label, r.line)
            ctx.out["budget_stated_totals"].add(
                **base, budget_level="all", expenditure_type="all", amount_million_vnd=ctx.money(amount),
                stated_as=amount.stated, amount_text=amount.text, source_line=r.row.cells[name_col.index].line)


def _deadline(ctx: TableContext, row: Row, column: Column | None) -> Deadline:
    """The deadline cell read, errors located on the cell's line."""
    try:
        return parse_deadline(ctx.cell(row, column), ctx.plan_year)
    except KehoachError as exc:
        raise exc.located(ctx.path, row.cells[column.index].line if column else row.line) from None


def _label_amount(ctx: TableContext, text: str, line: int) -> Amount:
    try:
        amount = parse_amount(text)
        ctx.money(amount)
    except KehoachError as exc:
        raise exc.located(ctx.path, line) from None
    return amount


def build_investments(ctx: TableContext, rows: list[LogicalRow]) -> None:
    t = ctx.table
    name_col, total_col = t.column("name"), t.column("amount_total")
    years = [c for c in t.columns_with("amount") if "year" in c.attrs]
    for r in rows:
        if r.kind == "group":
            log.warning("%s:%s: group rows of an investment table are not kept", ctx.path, r.line)
            continue
        if r.kind == "item":
            total = ctx.amount(r.row, total_col) if total_col else None
            ctx.out["investments"].add(
                plan_id=ctx.plan_id, item_no=r.key, item_no_text=r.code.text, name=ctx.cell(r.row, name_col),
                stated_total_million_vnd=ctx.money(total) if total else None,
                stated_total_text=(total.text or None) if total else None,
                appendix=ctx.appendix.label, source_line=r.line,
            )
            for col in years:
                amount = ctx.amount(r.row, col)
                if amount.is_stated:
                    ctx.out["investment_lines"].add(
                        plan_id=ctx.plan_id, item_no=r.key, year=int(col.attrs["year"]),
                        amount_million_vnd=ctx.money(amount), stated_as=amount.stated, amount_text=amount.text,
                        source_line=r.row.cells[col.index].line)
            continue
        label = ctx.cell(r.row, name_col)
        for col in ([total_col] if total_col else []) + years:
            amount = ctx.amount(r.row, col)
            if amount.is_stated:
                year = int(col.attrs["year"]) if "year" in col.attrs else None
                ctx.out["investment_stated_totals"].add(
                    plan_id=ctx.plan_id, column_key=str(year) if year else "total", year=year, label=label,
                    amount_million_vnd=ctx.money(amount), stated_as=amount.stated, amount_text=amount.text,
                    appendix=ctx.appendix.label, source_line=r.row.cells[col.index].line)


def skip_indicators(ctx: TableContext, rows: list[LogicalRow]) -> None:
    """An indicators table is not read into tasks; said in the log (its rows are not yet read)."""
    log.warning("%s:%s: an indicators table (a target and its unit, no deadline): its %d rows are not read as "
                "tasks", ctx.path, ctx.table.header_line, len(rows))


BUILDERS = ((is_tasks, build_tasks), (is_budget, build_budget), (is_investments, build_investments),
            (is_indicators, skip_indicators))


def read_appendix(ctx: TableContext) -> list[str]:
    """Build every resource the appendix's table feeds; returns the builder names used."""
    builders = [build for accepts, build in BUILDERS if accepts(ctx.table)]
    if not builders:
        labels = ", ".join(" > ".join(c.labels) for c in ctx.table.columns)
        raise KehoachError(f"table columns match no known kind of appendix: {labels}", ctx.path, ctx.table.header_line)
    if ctx.table.columns_with("amount") or ctx.table.column("amount_total"):
        if ctx.appendix.unit_text:
            try:
                ctx.factor = unit_factor(ctx.appendix.unit_text)
            except KehoachError as exc:
                raise exc.located(ctx.path, ctx.appendix.unit_line) from None
        else:
            log.warning("%s:%s: appendix states no unit (ĐVT); amounts read as million VND",
                        ctx.path, ctx.appendix.heading_line)
    rows = interpret(ctx)
    for build in builders:
        build(ctx, rows)
    return [b.__name__.removeprefix("build_") for b in builders if b is not skip_indicators]
