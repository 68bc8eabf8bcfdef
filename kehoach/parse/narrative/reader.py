"""The plan's narrative (its prose, before the appendices) -> tables.

Called by ``kehoach.parse.plan``. The outline (``kehoach.parse.narrative.outline``)
is read once; each table is then read from the sections whose heading gives
them a role (``reference/narrative_headings.csv``), never from fixed
positions:

- ``sections``: the outline itself;
- ``assessment_items`` (+ ``indicators``, ``kehoach.parse.narrative.indicators``): Part I;
- ``legal_bases`` and ``citations`` (``kehoach.parse.narrative.citations``);
- ``objectives``, ``plan_actions``, ``solutions``: Part II's prose by area;
- ``budget_summary``: the totals the budget section states by source;
- ``responsibilities``: one row per duty per agency of 'Tổ chức thực hiện';
- ``footnotes``.
"""

from __future__ import annotations

import logging
import re
from functools import cache

from kehoach.core.errors import KehoachError
from kehoach.core.model import TableBuilder
from kehoach.core.text import clean, key, lines_holding
from kehoach.core.vocabularies import vocabulary
from kehoach.parse.layout import PlanDocument
from kehoach.parse.narrative.citations import read_citations
from kehoach.parse.narrative.indicators import read_indicators
from kehoach.parse.narrative.outline import Outline, Section, Unit, read_outline
from kehoach.parse.state import ParseState
from kehoach.parse.values import parse_number, to_million, unit_factors

log = logging.getLogger(__name__)

Builders = dict[str, TableBuilder]
_FOOTNOTE_MARK = re.compile(r"(?<=\S)\[(\d+)\]")


def read_narrative(doc: PlanDocument, out: Builders, state: ParseState) -> None:
    outline = read_outline(doc, state.pillars)
    state.tolerated |= outline.tolerated  # headings told by their words, their numeral misread
    _sections(outline, out, state)
    _assessment(outline, out, state)
    read_indicators(doc.path, outline, out, state.plan_id)
    read_citations(doc, outline, out, state)
    _objectives(outline, out, state)
    _actions(outline, out, state)
    _solutions(outline, out, state)
    _budget_summary(doc, outline, out, state)
    _responsibilities(doc, outline, out, state)
    _footnotes(doc, outline, out, state)


# -- the outline ------------------------------------------------------------------

def _sections(outline: Outline, out: Builders, state: ParseState) -> None:
    for position, s in enumerate(outline.sections, start=1):
        out["sections"].add(
            plan_id=state.plan_id, section_id=s.section_id, parent_id=s.parent.section_id if s.parent else None,
            kind=s.kind, level=s.level, label=s.label, heading=s.heading or None, role=s.role, pillar=s.pillar,
            position=position, source_line=s.line_start, line_end=s.line_end,
        )


# -- Part I -------------------------------------------------------------------------

def _assessment(outline: Outline, out: Builders, state: ParseState) -> None:
    for part in outline.with_role("assessment"):
        for position, unit in enumerate(outline.units_under(part), start=1):
            label = next((s for s in unit.section.ancestors() if s.role in ("achievement", "shortcoming")), None)
            out["assessment_items"].add(
                plan_id=state.plan_id, source_line=unit.line, position=position,
                section_id=unit.section.section_id, pillar=unit.section.pillar,
                classification=label.role if label else "other", label=label.heading if label else None,
                form=unit.form, text=unit.text,
            )


# -- Part II prose --------------------------------------------------------------------

def _objectives(outline: Outline, out: Builders, state: ParseState) -> None:
    for section in outline.with_role("objectives"):
        for position, unit in enumerate(outline.units_under(section), start=1):
            out["objectives"].add(
                plan_id=state.plan_id, source_line=unit.line, position=position,
                section_id=unit.section.section_id, text=unit.text,
            )


def _actions(outline: Outline, out: Builders, state: ParseState) -> None:
    for section in outline.with_role("actions"):
        for position, unit in enumerate(outline.units_under(section), start=1):
            area = unit.section.child_of(section)
            item = next((s for s in unit.section.ancestors() if s.kind == "item"), None)
            out["plan_actions"].add(
                plan_id=state.plan_id, source_line=unit.line, position=position,
                section_id=unit.section.section_id, pillar=unit.section.pillar,
                area_label=area.label if area else None, area_heading=area.heading if area else None,
                item_label=item.label if item else None, item_heading=item.heading if item else None,
                form=unit.form, text=unit.text,
            )


def _solutions(outline: Outline, out: Builders, state: ParseState) -> None:
    for section in outline.with_role("solutions"):
        for position, unit in enumerate(outline.units_under(section), start=1):
            group = unit.section.child_of(section)
            out["solutions"].add(
                plan_id=state.plan_id, source_line=unit.line, position=position,
                section_id=unit.section.section_id,
                group_label=group.label if group else None, group_heading=group.heading if group else None,
                form=unit.form, text=unit.text,
            )


# -- the budget section ---------------------------------------------------------------

@cache
def _budget_terms() -> tuple[tuple[re.Pattern[str], str, str], ...]:
    """(the term as a whole word, its dimension, its value), the longest terms first."""
    rows = sorted(((key(r["term"]), r["dimension"], r["value"]) for r in vocabulary("budget_terms")),
                  key=lambda r: -len(r[0]))
    return tuple((re.compile(rf"(?<!\w){re.escape(term)}(?!\w)"), dimension, value) for term, dimension, value in rows)


@cache
def _money_pattern() -> re.Pattern[str]:
    units = sorted(unit_factors(), key=len, reverse=True)
    alternatives = "|".join(re.escape(u) for u in units)
    number = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?"
    return re.compile(rf"(?<![\w.,])({number})\s*({alternatives})(?!\w)", re.IGNORECASE)


def _budget_summary(doc: PlanDocument, outline: Outline, out: Builders, state: ParseState) -> None:
    seen: dict[tuple[str, str], int] = {}
    for section in outline.with_role("budget"):
        for unit in outline.units_under(section):
            previous_end = 0
            for m in _money_pattern().finditer(unit.text):
                # What an amount is for is said between the previous amount (or clause) and it.
                clause = re.split(r"[;.]\s", unit.text[previous_end: m.start()])[-1]
                previous_end = m.end()
                level, kind = _budget_dimensions(clause)
                if (level, kind) in seen:
                    log.warning("%s:%s: budget total for %s/%s already stated on line %s; kept the first",
                                doc.path, unit.line, level, kind, seen[(level, kind)])
                    continue
                seen[(level, kind)] = unit.line
                try:
                    amount = to_million(parse_number(m[1]), unit_factors()[key(m[2])])
                except KehoachError as exc:
                    raise exc.located(doc.path, unit.line) from None
                out["budget_summary"].add(
                    plan_id=state.plan_id, budget_level=level, expenditure_type=kind,
                    amount_million_vnd=amount, amount_text=m[1], text=unit.text,
                    section_id=unit.section.section_id, source_line=unit.line,
                )


def _budget_dimensions(clause: str) -> tuple[str, str]:
    """('district', 'recurrent') for 'Chi thường xuyên đối với đơn vị cấp huyện là'."""
    k = key(clause)
    found: dict[str, str] = {}
    for term, dimension, value in _budget_terms():
        if term.search(k):
            found.setdefault(dimension, value)
    # 'Tổng kinh phí chi thường xuyên' totals every level of one expenditure type.
    rest = "all" if "total" in found else "unspecified"
    return found.get("budget_level", rest), found.get("expenditure_type", rest)


# -- responsibilities -------------------------------------------------------------------

@cache
def _duty_terms() -> tuple[tuple[str, str], ...]:
    rows = [(clean(r["term"]).casefold(), r["role"]) for r in vocabulary("duty_terms")]
    return tuple(sorted(rows, key=lambda r: -len(r[0])))


def _responsibilities(doc: PlanDocument, outline: Outline, out: Builders, state: ParseState) -> None:
    for section in outline.with_role("implementation"):
        for unit in outline.units_under(section):
            group = unit.section.child_of(section)
            if group is None:
                continue  # prose addressed to nobody in particular
            agencies_text, duty = _agencies_and_duty(group, unit)
            item = next((s for s in unit.section.ancestors() if s.kind == "item"), None)
            mentions = [("responsible", m) for m in state.agencies.mentions(agencies_text)]
            mentions += [("counterpart", m) for m in _counterparts(duty, state)]
            for mention_no, (role, mention) in enumerate(mentions, start=1):
                # An unknown agency keeps its text and no id; kehoach.parse.agencies.report_unresolved warns.
                out["responsibilities"].add(
                    plan_id=state.plan_id, source_line=unit.line, mention_no=mention_no,
                    section_id=unit.section.section_id, group_section_id=group.section_id,
                    duty_label=item.label if item else None, role=role, mention=mention.text,
                    agency_id=mention.agency_id, text=duty,
                )


def _agencies_and_duty(group: Section, unit: Unit) -> tuple[str, str]:
    """'3. Sở Tài chính: Tham mưu …' names the agency before ':' and its duty after."""
    name, colon, rest = group.heading.partition(":")
    if unit.form == "heading" and unit.section is group and colon and rest.strip():
        return name, clean(rest)
    return name, unit.text


def _counterparts(duty: str, state: ParseState):
    """Agencies named right after 'phối hợp với' ('Chủ trì, phối hợp với Sở Nội vụ, Sở TT&TT hướng dẫn …')."""
    lowered = duty.casefold()
    for term, _role in _duty_terms():
        at = lowered.find(term)
        if at >= 0:
            return state.agencies.leading_mentions(duty[at + len(term):])
    return []


# -- footnotes ---------------------------------------------------------------------------

def _footnotes(doc: PlanDocument, outline: Outline, out: Builders, state: ParseState) -> None:
    if not doc.footnotes:
        return
    first_note = doc.footnotes[0].line
    attached: dict[str, int] = {}
    # every mark holds a '[': the other lines are not searched
    for k in lines_holding(doc.source.lines[doc.body_start - 1:first_note - 1], ("[",)):
        for m in _FOOTNOTE_MARK.finditer(doc.source.line(doc.body_start + k)):
            attached.setdefault(m[1], doc.body_start + k)
    for note in doc.footnotes:
        line = attached.get(note.marker)
        if line is None:
            log.warning("%s:%s: footnote [%s] is not referenced in the text", doc.path, note.line, note.marker)
        section = outline.at(line or note.line)
        out["footnotes"].add(
            plan_id=state.plan_id, marker=note.marker, text=note.text, source_line=note.line,
            marker_line=line, section_id=section.section_id if section else None,
        )
