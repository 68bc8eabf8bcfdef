"""What the readers of one plan share while it is parsed: ids, registries, collectors."""

from __future__ import annotations

from kehoach.parse.agencies import registry_for
from kehoach.parse.layout import PlanDocument
from kehoach.parse.legal_documents import Context, DocumentRegistry
from kehoach.parse.pillars import PillarCollector


class ParseState:
    """What readers of one plan share: ids, registries and collectors."""

    def __init__(self, doc: PlanDocument):
        header = doc.header
        self.plan_id = header.plan_id
        self.context = Context(header.province, header.province_unit)
        self.agencies = registry_for(header.province, header.province_unit, header.issued_date)
        self.pillars = PillarCollector(self.plan_id, doc.ocr_lines)
        self.documents = DocumentRegistry()
        self.plan_documents: list[dict] = []
        self.tolerated: set[int] = set()  # lines OCR misread that were recognised only tolerantly: to review

    def relate(self, doc_id: str, relation: str, line: int, position: int | None = None) -> None:
        self.plan_documents.append(
            {"plan_id": self.plan_id, "doc_id": doc_id, "relation": relation, "position": position,
             "source_line": line}
        )
