"""What portals are told about a dataset: its metadata, and DCAT in JSON-LD."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import Any

from kehoach.publish.snapshot import Snapshot

FORMATS = {"csv": "CSV", "parquet": "Parquet", "json": "JSON", "zip": "ZIP", "duckdb": "DuckDB",
           "md": "Markdown", "txt": "TXT", "sqlite": "SQLite"}


@dataclass
class DatasetMeta:
    """What the portals need to know about the package, read from its descriptor
    (and, for plan details, from its ``plans`` table when there is one)."""

    name: str
    title: str
    title_vi: str
    title_en: str
    description_vi: str
    description_en: str
    version: str
    created: str
    licence: dict
    licence_note_vi: str
    licence_note_en: str
    keywords: list[str]
    language: list[str]
    sources: list[dict]
    content_sha256: str
    generator: str
    plans: list[dict] = field(default_factory=list)
    contributors: list[dict] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    issued: str = ""  # when the first version was made
    change_summary_vi: str = ""
    change_summary_en: str = ""

    @property
    def plan_numbers(self) -> list[str]:
        return _unique([p.get("number") for p in self.plans] or [s.get("number") for s in self.sources])

    @property
    def plan_issuers(self) -> list[str]:
        return _unique([p.get("issuer") for p in self.plans] or [s.get("issuer") for s in self.sources])

    @property
    def plan_issued_dates(self) -> list[str]:
        return _unique([p.get("issued_date") for p in self.plans] or [s.get("issued_date") for s in self.sources])

    @property
    def provinces(self) -> list[str]:
        return _unique([p.get("province") for p in self.plans])

    @property
    def source_sha256(self) -> list[str]:
        return _unique([str(s.get("hash", "")).removeprefix("sha256:") for s in self.sources])

    @property
    def landing_page(self) -> str:
        return next((str(s["url"]) for s in self.sources if s.get("url")), "")

    @property
    def source_url(self) -> str:
        """Where a reader finds the official source: the page the text was published on, else the
        website of its issuer (the creator's ``path``), whose page for it was not recorded."""
        issuer = next((str(c["path"]) for c in self.contributors if "creator" in (c.get("roles") or [])
                       and c.get("path")), "")
        return self.landing_page or issuer

    @property
    def temporal(self) -> tuple[str, str]:
        """The plans' periods as one ('2024-01-01', '2024-12-31'; a plan over a period, its first and last
        years); empty when unknown."""
        years = sorted(int(p[f]) for p in self.plans for f in ("period_start", "period_end", "plan_year")
                       if str(p.get(f) or "").isdigit())
        if not years:
            return "", ""
        return f"{years[0]}-01-01", f"{years[-1]}-12-31"

    @property
    def provenance(self) -> str:
        parts = []
        for s in self.sources:
            bits = [s.get("number"), s.get("issuer"), s.get("issued_date")]
            parts.append(f"{s.get('title', '')} ({', '.join(str(b) for b in bits if b)})")
        return f"Extracted by {self.generator or 'kehoach'} from: " + "; ".join(parts)


def _unique(values: list[Any]) -> list[str]:
    out: list[str] = []
    for v in values:
        if v and str(v) not in out:
            out.append(str(v))
    return out


def dataset_meta(snap: Snapshot) -> DatasetMeta:
    d = snap.descriptor
    licences = d.get("licenses") or [{}]
    return DatasetMeta(
        name=snap.name,
        title=str(d.get("title") or d.get("name") or ""),
        title_vi=str(d.get("title_vi") or d.get("title") or ""),
        title_en=str(d.get("title_en") or d.get("title") or ""),
        description_vi=str(d.get("description_vi") or d.get("description") or ""),
        description_en=str(d.get("description_en") or ""),
        version=snap.version,
        created=str(d.get("created") or ""),
        licence=licences[0] if isinstance(licences[0], dict) else {},
        licence_note_vi=str(d.get("licence_note_vi") or ""),
        licence_note_en=str(d.get("licence_note_en") or ""),
        keywords=[str(k) for k in d.get("keywords") or []],
        language=[str(k) for k in d.get("language") or []],
        sources=[s for s in d.get("sources") or [] if isinstance(s, dict)],
        content_sha256=str(d.get("content_sha256") or ""),
        generator=str(d.get("generator") or ""),
        plans=_plans(snap),
        contributors=[c for c in d.get("contributors") or [] if isinstance(c, dict)],
        themes=[str(t) for t in d.get("themes") or []],
        issued=str(d.get("issued") or ""),
        change_summary_vi=str(d.get("change_summary_vi") or ""),
        change_summary_en=str(d.get("change_summary") or ""),
    )


def _plans(snap: Snapshot) -> list[dict]:
    plans = next((f for f in snap.files if f.key == "plans" and f.format == "csv"), None)
    if plans is None:
        return []
    with snap.local(plans).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
