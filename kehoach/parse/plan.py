"""One source text -> the package's tables for that plan.

``parse_source`` is a pure function of the text and the reference
vocabularies: the same bytes always give the same tables.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kehoach.core.collector import cycle_collection_paused
from kehoach.core.errors import KehoachError
from kehoach.core.model import TableBuilder, Tables, resource_names, rows_to_arrow, with_ordinals
from kehoach.core.places import province_on
from kehoach.core.vocabularies import vocabulary
from kehoach.parse.agencies import report_unresolved
from kehoach.parse.appendices import TableContext, read_appendix, task_table_prefixes
from kehoach.parse.front_matter import doc_type_at_start
from kehoach.parse.layout import PlanDocument, parse_document
from kehoach.parse.legal_documents import DocRef, parse_related_entry
from kehoach.parse.narrative.reader import read_narrative
from kehoach.parse.series import cited_predecessor
from kehoach.parse.state import ParseState
from kehoach.parse.values import parse_dmy
from kehoach.read.provenance import fill_provenance
from kehoach.read.sources import SourceText

log = logging.getLogger(__name__)
# Appendices without a table named one by one, then counted: a hostile text with thousands
# of them would otherwise spend most of its parse (and the flow's log) on this warning.
_NAMED_EMPTY_APPENDICES = 20


@dataclass(frozen=True)
class PlanRows:
    """One source's rows, table by table, as the parser made them (ordinals
    filled in), before they are typed (``typed``)."""

    path: str
    rows: dict[str, list[dict[str, Any]]]
    table_lines: tuple[int, ...] = ()  # the header line of each appendix table read (what inspect asks)
    # a document read from another format than text: the text it was read as, shipped beside it
    # (``source/<file>.txt``); kept in the parse cache's entry, so the build never reads the document again
    rendering: str | None = None

    def plan_ids(self) -> tuple[str, ...]:
        return tuple(row["plan_id"] for row in self.rows["plans"])


def parse_source(source: SourceText) -> Tables:
    return typed([read_plan(source)])


def read_plan(source: SourceText) -> PlanRows:
    # Cycle collection paused: a long text's rows and documents live until the tables are built,
    # and full collections walking them again and again took a quarter of the parse.
    with cycle_collection_paused():
        return _parse(source)


def typed(plans: Sequence[PlanRows]) -> Tables:
    """The plans' rows as typed tables, one Arrow conversion per table for them
    all: a conversion's fixed cost, 28 times a plan, was most of it (measured: 4.2
    -> 2.4 ms a plan from one plan at a time to ten). A value the schema refuses
    is located in its own source."""
    out = {}
    for name in resource_names():
        try:
            out[name] = rows_to_arrow(name, [row for plan in plans for row in plan.rows[name]])
        except KehoachError:
            for plan in plans:  # the plan whose row it is, converted alone, names its file
                try:
                    rows_to_arrow(name, plan.rows[name])
                except KehoachError as exc:
                    raise exc.located(plan.path) from None
            raise
    return out


def _parse(source: SourceText) -> PlanRows:
    doc = parse_document(source)
    state = ParseState(doc)
    out = {name: TableBuilder(name) for name in resource_names()}

    _plan_row(doc, out, state)
    documents, context = state.documents, state.context
    for entry in doc.related:
        try:
            ref = parse_related_entry(entry.text, context)
        except KehoachError as exc:
            raise exc.located(doc.path, entry.line) from None
        state.relate(documents.add(ref), "related", entry.line, entry.position)

    kinds = []
    prefixes = task_table_prefixes(doc.appendices)
    empty = [a for a in doc.appendices if not a.tables]
    for appendix in empty[:_NAMED_EMPTY_APPENDICES]:
        log.warning("%s:%s: appendix %s has no table", doc.path, appendix.heading_line, appendix.label)
    if len(empty) > _NAMED_EMPTY_APPENDICES:
        log.warning("%s:%s: %d more appendices have no table", doc.path,
                    empty[_NAMED_EMPTY_APPENDICES].heading_line, len(empty) - _NAMED_EMPTY_APPENDICES)
    for appendix in doc.appendices:
        for table in appendix.tables:
            ctx = TableContext(state.plan_id, doc.path, appendix, table, state.agencies, state.pillars, out,
                               key_prefix=prefixes.get(id(table), ""), plan_year=doc.header.plan_year)
            kinds += read_appendix(ctx)

    read_narrative(doc, out, state)
    report_unresolved(doc.path, out)  # once every table with agency mentions is read

    _finish_documents(state, out)
    _previous_plan(doc, state, out)
    for row in state.pillars.rows():
        out["pillars"].add(**row)
    for agency in state.agencies.agencies.values():
        out["agencies"].add(
            agency_id=agency.agency_id, name_vi=agency.name_vi, name_en=agency.name_en, level=agency.level,
            kind=agency.kind, province=agency.province, admin_code=agency.admin_code,
            aliases="|".join(agency.aliases) or None, valid_from=agency.valid_from, valid_to=agency.valid_to,
        )
    out["agency_successions"].add_rows(state.agencies.successions())
    log.info("%s: plan %s, appendices read as %s", doc.path, doc.header.number, ", ".join(kinds) or "nothing")
    rows = {name: with_ordinals(name, builder.rows) for name, builder in out.items()}
    # the rows of a table whose header OCR misread (matched only tolerantly) need review, all of them;
    # so does a group name so matched, and a section heading told by its words
    doubtful = frozenset(n for a in doc.appendices for t in a.tables if t.tolerated
                         for n in range(t.header_line, t.end_line + 1)) | state.pillars.tolerated | state.tolerated
    fill_provenance(rows, source.line_pages, source.line_confidences, doubtful)
    return PlanRows(doc.path, rows, tuple(t.header_line for a in doc.appendices for t in a.tables),
                    "\n".join(source.lines) + "\n" if source.format != "text" else None)


def _plan_row(doc: PlanDocument, out: dict[str, TableBuilder], state: ParseState) -> None:
    h = doc.header
    province = province_on(h.province, h.issued_date) if h.province else None  # the code valid on its issue date
    doc_type_en = next((r["name_en"] for r in vocabulary("doc_types") if r["name_vi"] == h.doc_type), None)
    out["plans"].add(
        plan_id=state.plan_id, number=h.number, doc_type=h.doc_type, doc_type_en=doc_type_en, issuer=h.issuer,
        issuer_printed=h.issuer_printed or None, province=h.province or None,
        province_code=province.code if province else None,
        place=h.place, issued_date=h.issued_date, title=h.title, title_printed=h.title_printed,
        plan_year=h.plan_year, period_start=h.period_start, period_end=h.period_end,
        signer_title=" ".join(t for _, t in doc.signature) or None,
        source_file=doc.path.rsplit("/", 1)[-1], source_sha256=doc.source.sha256, source_line=h.number_line,
        **_metadata_fields(h.metadata),
    )


def _previous_plan(doc: PlanDocument, state: ParseState, out: dict[str, TableBuilder]) -> None:
    """The plan this one follows, as it cites it (number and line; linked in a corpus by ``link_series``)."""
    first_lines: dict[str, int] = {}
    for rel in out["plan_documents"].rows:
        line = first_lines.get(rel["doc_id"])
        first_lines[rel["doc_id"]] = rel["source_line"] if line is None else min(line, rel["source_line"])
    found = cited_predecessor(doc.header, state.documents.docs.values(), first_lines)
    if found:
        out["plans"].rows[0].update(previous_plan_number=found[0], previous_plan_line=found[1])


def _metadata_fields(metadata: dict[str, tuple[str, int]]) -> dict:
    """The page's metadata table as stated, beside the header's values (the audit compares them)."""
    number, date_text, doc_type = (metadata.get(k, ("", 0))[0] for k in ("number", "issued_date", "doc_type"))
    try:
        issued = parse_dmy(date_text) if date_text else None
    except KehoachError:
        issued = None  # not a date: reported by the front-matter reader, kept out of a DATE column
    lines = [line for name, (_, line) in metadata.items() if name in ("number", "issued_date", "doc_type")]
    return dict(metadata_number=number.replace(" ", "") or None, metadata_issued_date=issued,
                metadata_doc_type=(doc_type_at_start(doc_type) or doc_type) if doc_type else None,
                metadata_line=min(lines) if lines else None)


def _finish_documents(state: ParseState, out: dict[str, TableBuilder]) -> None:
    moves = state.documents.resolve_aliases()
    first: dict[tuple[str, str], dict] = {}
    for rel in state.plan_documents:
        if moves:
            rel["doc_id"] = moves.get(rel["doc_id"], rel["doc_id"])
        first.setdefault((rel["doc_id"], rel["relation"]), rel)  # lists repeat themselves
    # Rows handed over as they are (no keyword copy per row): a related list can hold tens of thousands.
    out["plan_documents"].add_rows(list(first.values()))
    fields = DocRef._fields  # the documents table's fields are DocRef's (its _asdict, inline)
    out["documents"].add_rows([dict(zip(fields, ref, strict=True)) for ref in state.documents.docs.values()])
