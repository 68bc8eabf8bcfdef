"""Plan areas (pillars): one id per area whatever number an appendix gives it.

A group name read by OCR that no name matches is matched again with its
accents folded away, as a table header is (``kehoach/parse/table_header.py``:
'Thế chế số' is 'Thể chế số'); the line of a name so matched is ``tolerated``,
and its row is flagged for review.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from kehoach.core.text import clean, fold, key, slug
from kehoach.core.vocabularies import split_list, vocabulary


@dataclass(frozen=True)
class Pillar:
    pillar_id: str
    kind: str
    name_vi: str
    name_en: str | None


@cache
def _index() -> dict[str, Pillar]:
    index: dict[str, Pillar] = {}
    for row in vocabulary("pillars"):
        pillar = Pillar(row["pillar_id"], row["kind"], row["name_vi"], row["name_en"] or None)
        for name in (row["name_vi"], *split_list(row["aliases"])):
            index[key(name)] = pillar
    return index


@cache
def _folded_index() -> dict[str, Pillar]:
    return {fold(name): pillar for name, pillar in _index().items()}


def lookup(name: str) -> Pillar:
    """The known area for a group name, or an 'unknown' area keyed by its slug."""
    return _index().get(key(name)) or Pillar(slug(name), "unknown", clean(name), None)


def lookup_folded(name: str) -> Pillar | None:
    """The known area whose name, accents folded, is the group name's (read by OCR)."""
    return _folded_index().get(fold(key(name)))


class PillarCollector:
    """Records the areas a plan uses, with the first place each is named."""

    def __init__(self, plan_id: str, ocr_lines: frozenset[int] = frozenset()):
        self.plan_id = plan_id
        self.seen: dict[str, dict] = {}
        self.ocr_lines = ocr_lines  # the lines read by OCR, whose names are matched tolerantly
        self.tolerated: set[int] = set()  # lines whose name was matched only with its accents folded

    def resolve(self, name: str, line: int) -> str:
        pillar = lookup(name)
        if pillar.kind == "unknown" and line in self.ocr_lines and (folded := lookup_folded(name)):
            pillar = folded
            self.tolerated.add(line)
        self.seen.setdefault(
            pillar.pillar_id,
            {
                "plan_id": self.plan_id,
                "pillar_id": pillar.pillar_id,
                "kind": pillar.kind,
                "name_vi": pillar.name_vi,
                "name_en": pillar.name_en,
                "name_in_plan": clean(name),
                "source_line": line,
            },
        )
        return pillar.pillar_id

    def rows(self) -> list[dict]:
        return list(self.seen.values())
