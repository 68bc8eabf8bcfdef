"""``kehoach inspect``: what the reader recognises in a text, without building anything.

For each file: the front matter (type, number, date, issuer, province,
title, plan year), the layout recognised, the rows each part of the package
would get, whether the text is complete, and every problem with its line.
A text the build refuses (cut off, no front matter) is still inspected as far
as it goes: its appendix tables are read on their own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from kehoach.core.errors import KehoachError
from kehoach.core.model import TableBuilder, resource_names
from kehoach.parse.agencies import registry_for
from kehoach.parse.appendices import TableContext, read_appendix, task_table_prefixes
from kehoach.parse.appendix_blocks import appendix_starts_and_blocks
from kehoach.parse.front_matter import FrontMatter, read_front_matter
from kehoach.parse.layout import (
    PlanHeader,
    header_from,
    national_issuer,
    read_related,
    unfinished_end,
)
from kehoach.parse.pillars import PillarCollector
from kehoach.parse.plan import read_plan, typed
from kehoach.parse.table_reader import is_header_start
from kehoach.parse.table_rows import is_markdown_line, is_separator, split_line
from kehoach.read.provenance import ocr_lines
from kehoach.read.sources import SourceText, read_source

# Tables that describe the plan itself or the registries, not a part of its text.
_NOT_PARTS = ("plans", "agencies", "pillars", "documents", "plan_documents", "findings", "audit_rules", "changes")
KEYS = ("file", "doc_type", "number", "issued_date", "issuer", "province", "title", "plan_year", "layout", "parts",
        "complete", "problems", "format", "pages", "reader")


@dataclass
class Report:
    """One file's inspection; ``as_dict`` has exactly the keys of ``KEYS``."""

    file: str
    identified: bool = False
    values: dict = field(default_factory=dict)
    parts: dict[str, int] = field(default_factory=dict)
    layout: list[str] = field(default_factory=list)
    complete: bool = False
    problems: list[tuple[int, str]] = field(default_factory=list)

    def problem(self, line: int | None, message: str) -> None:
        if (line or 1, message) not in self.problems:  # the whole parse and the appendix reading may agree
            self.problems.append((line or 1, message))

    def as_dict(self) -> dict:
        out = {"file": self.file, **{k: self.values.get(k) for k in KEYS[1:8]}}
        out.update(layout="+".join(self.layout) or None, parts=self.parts, complete=self.complete,
                   problems=[{"line": line, "message": message} for line, message in self.problems],
                   **{k: self.values.get(k) for k in ("format", "pages", "reader")})
        return out


class _Warnings(logging.Handler):
    """The parser's warnings ('path:line: what') while one file is inspected: they are problems of
    that file too, as ``kehoach build`` would log them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def report_to(self, report: Report, path: str) -> None:
        for message in self.messages:
            line, _, what = message.removeprefix(f"{path}:").partition(": ")
            placed = message.startswith(f"{path}:") and line.isdigit()
            report.problem(int(line) if placed else None, f"warning: {what if placed else message}")


def inspect_file(path: str | Path) -> Report:
    """One file's report; the parser's warnings are among its problems, not printed."""
    library = logging.getLogger(__name__.split(".")[0])
    warnings, propagate = _Warnings(), library.propagate
    library.addHandler(warnings)
    library.propagate = False
    try:
        report = _inspect(path)
    finally:
        library.removeHandler(warnings)
        library.propagate = propagate
    warnings.report_to(report, str(path))
    return report


def _inspect(path: str | Path) -> Report:
    report = Report(str(path))
    try:
        source = read_source(Path(path))
    except KehoachError as exc:
        report.problem(exc.line, exc.message)
        return report
    _, start = read_related(source.lines, source.path)
    fm = read_front_matter(source.lines, start, source.path)
    for p in fm.problems:
        report.problem(p.line, p.message)
    report.values = {**_front_values(fm), "format": source.format, "pages": source.pages, "reader": source.reader}
    for note in source.notes:
        report.problem(1, note)
    report.layout = _layout(fm)
    header = _header(fm, source.path, start, report)
    parsed = _parse(source, report) if header else None
    # the parse reads every appendix table or refuses the text
    read = set(parsed) if parsed is not None else _read_appendices(source, fm.body_start, header, report)
    _other_tables(source.lines, read, report)
    if any(is_markdown_line(line) and is_header_start(line) for line in set(source.lines[fm.body_start:])):
        report.layout.append("markdown-tables")
    cut = unfinished_end(source.lines)
    if cut and not header:
        report.problem(cut, "the text ends mid-sentence: it looks cut off")
    report.complete = bool(header) and parsed is not None  # the parse refuses a text cut off
    return report


def _front_values(fm: FrontMatter) -> dict:
    return {"doc_type": fm.doc_type, "number": fm.number,
            "issued_date": fm.issued_date.isoformat() if fm.issued_date else None,
            "issuer": national_issuer(fm.issuer_printed) or fm.issuer_printed or None,
            "title": fm.title_printed or None}


def _layout(fm: FrontMatter) -> list[str]:
    if fm.number is None and fm.issued_date is None:
        return ["no-front-matter"]
    base = "pipe-header" if "pipe-cells" in fm.layout and "cell-blocks" not in fm.layout else (
        "cell-blocks" if "cell-blocks" in fm.layout else "plain-lines")
    return [*(["metadata-table"] if "metadata" in fm.layout else []), base,
            *(["hard-wrapped"] if "hard-wrapped" in fm.layout else [])]


def _header(fm: FrontMatter, path: str, start: int, report: Report) -> PlanHeader | None:
    try:
        header = header_from(fm, path, start)
    except KehoachError as exc:
        report.problem(exc.line, exc.message)
        return None
    report.identified = True
    report.values.update(issuer=header.issuer, province=header.province or None, title=header.title,
                         plan_year=header.plan_year)
    return header


def _parse(source: SourceText, report: Report) -> tuple[int, ...] | None:
    """Counts from the whole parse, and the header lines of the tables it read; None (and the reason as
    a problem) when the build would refuse it."""
    try:
        plan = read_plan(source)
        tables = typed([plan])
    except KehoachError as exc:
        report.problem(exc.line, exc.message)
        return None
    report.parts = {name: t.num_rows for name, t in tables.items() if name not in _NOT_PARTS and t.num_rows}
    return plan.table_lines


def _other_tables(lines: tuple[str, ...], read: set[int], report: Report) -> None:
    """Tables of the text that no part of the package reads (e.g. land-use figures in a decision's body):
    counted in ``parts`` as ``other_tables`` and each named as a problem, never left out silently."""
    other = [n for n in table_starts(lines) if n + 1 not in read]
    for n in other:
        labels = " | ".join(c for c in split_line(lines[n], markdown=is_markdown_line(lines[n]))[0] if c)
        report.problem(n + 1, f"a table that no part of the package reads ({labels[:80]})")
    if other:
        report.parts["other_tables"] = len(other)


def table_starts(lines: tuple[str, ...]) -> list[int]:
    """The (0-based) lines where a table's header row starts, by structure: a markdown row over a separator
    row, or a row-number header cell. Each different text is asked once: a table's lines repeat ('|'), and
    a text of millions of them was asked at each."""
    distinct = set(lines)
    headers = {t for t in distinct if is_header_start(t)}
    separators = {t for t in distinct if is_separator(t)}
    return [n for n, t in enumerate(lines) if t in headers or (
        n + 1 < len(lines) and lines[n + 1] in separators and is_markdown_line(t))]


def _read_appendices(source: SourceText, start: int, header: PlanHeader | None, report: Report) -> set[int]:
    """The appendix tables alone, each one's problem reported without stopping the others; returns the
    header lines of the tables read."""
    plan_id = header.plan_id if header else Path(source.path).stem
    province, unit = (header.province, header.province_unit) if header else ("", "")
    agencies = registry_for(province, unit, header.issued_date if header else None)
    plan_year = header.plan_year if header else None
    out = {name: TableBuilder(name) for name in resource_names()}
    read_by_ocr = ocr_lines(source.line_confidences)  # their headers and group names are matched tolerantly
    pillars = PillarCollector(plan_id, read_by_ocr)
    found = appendix_starts_and_blocks(source.lines, start, source.path, read_by_ocr)
    prefixes = task_table_prefixes([a for a, _ in found if a])
    read: set[int] = set()
    for appendix, error in found:
        if error:
            report.problem(error.line, error.message)
            continue
        for table in appendix.tables:
            ctx = TableContext(plan_id, source.path, appendix, table, agencies, pillars, out,
                               key_prefix=prefixes.get(id(table), ""), plan_year=plan_year)
            try:
                read_appendix(ctx)
            except KehoachError as exc:
                report.problem(exc.line, exc.message)
            else:
                read.add(table.header_line)
    counts = {name: len(b.rows) for name, b in out.items() if b.rows and name not in _NOT_PARTS}
    report.parts = {**report.parts, **counts}
    return read


def inspect_files(paths: list[str]) -> list[Report]:
    return [inspect_file(p) for p in paths]


def summary(report: Report) -> list[str]:
    """A short readable summary of one report."""
    v = report.as_dict()
    if report.identified:
        head = f"{v['file']}: {v['doc_type']} {v['number']} of {v['issued_date']}, {v['issuer']}"
        lines = [head, f"  title: {v['title']}", f"  province: {v['province'] or '-'}; plan year: "
                 f"{v['plan_year'] or '-'}"]
    else:
        lines = [f"{v['file']}: not identified"]
    parts = ", ".join(f"{k} {n}" for k, n in report.parts.items()) or "nothing"
    lines.append(f"  layout: {v['layout'] or '-'}; read: {parts}; complete: {'yes' if report.complete else 'no'}")
    if v["format"] not in (None, "text"):
        pages = f", {v['pages']} pages" if v["pages"] else ""
        lines.append(f"  format: {v['format']}{pages}, read by {v['reader']}; lines are those of its text as read")
    lines += [f"  {v['file']}:{line}: {message}" for line, message in report.problems]
    return lines
