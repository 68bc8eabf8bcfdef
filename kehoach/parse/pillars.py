"""Plan areas (pillars): one id per area whatever number an appendix gives it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from kehoach.core.text import clean, key, slug
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


def lookup(name: str) -> Pillar:
    """The known area for a group name, or an 'unknown' area keyed by its slug."""
    found = _index().get(key(name))
    if found:
        return found
    return Pillar(slug(name), "unknown", clean(name), None)


class PillarCollector:
    """Records the areas a plan uses, with the first place each is named."""

    def __init__(self, plan_id: str):
        self.plan_id = plan_id
        self.seen: dict[str, dict] = {}

    def resolve(self, name: str, line: int) -> str:
        pillar = lookup(name)
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
