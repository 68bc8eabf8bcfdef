"""What portals are told about a dataset: its metadata, and DCAT in JSON-LD."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from typing import Any

from kehoach.publish.snapshot import PackageFile, Snapshot

DATA_PACKAGE_SPEC = "https://specs.frictionlessdata.io/data-package/"
TABLE_SCHEMA_SPEC = "https://specs.frictionlessdata.io/table-schema/"
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
    def source_sha256(self) -> list[str]:
        return _unique([str(s.get("hash", "")).removeprefix("sha256:") for s in self.sources])

    @property
    def landing_page(self) -> str:
        return next((str(s["url"]) for s in self.sources if s.get("url")), "")

    @property
    def temporal(self) -> tuple[str, str]:
        """The plan years as a period ('2024-01-01', '2024-12-31'); empty when unknown."""
        years = sorted(int(p["plan_year"]) for p in self.plans if str(p.get("plan_year") or "").isdigit())
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
    )


def _plans(snap: Snapshot) -> list[dict]:
    plans = next((f for f in snap.files if f.key == "plans" and f.format == "csv"), None)
    if plans is None:
        return []
    with snap.local(plans).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


LD_CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "spdx": "http://spdx.org/rdf/terms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def dcat_dataset(snap: Snapshot, base: str) -> dict:
    """The dataset as DCAT in JSON-LD; ``base`` prefixes the relative IRIs of its files."""
    meta = dataset_meta(snap)
    node: dict[str, Any] = {
        "@id": base or "./",
        "@type": "dcat:Dataset",
        "dct:identifier": meta.name,
        "dct:title": [{"@value": meta.title_vi, "@language": "vi"}, {"@value": meta.title_en, "@language": "en"}],
        "dct:description": [{"@value": meta.description_vi, "@language": "vi"},
                            {"@value": meta.description_en, "@language": "en"}],
        "dcat:keyword": meta.keywords,
        "owl:versionInfo": meta.version,
        "dct:modified": {"@value": meta.created, "@type": "xsd:dateTime"},
        "dct:language": meta.language,
        "dct:conformsTo": {"@id": DATA_PACKAGE_SPEC},
        "dct:provenance": meta.provenance,
    }
    if meta.licence.get("path"):
        node["dct:license"] = {"@id": meta.licence["path"]}
    start, end = meta.temporal
    if start:
        node["dct:temporal"] = {"@type": "dct:PeriodOfTime",
                                "dcat:startDate": {"@value": start, "@type": "xsd:date"},
                                "dcat:endDate": {"@value": end, "@type": "xsd:date"}}
    if meta.landing_page:
        node["dcat:landingPage"] = {"@id": meta.landing_page}
    node["dcat:distribution"] = [_distribution(f, base) for f in snap.files]
    return {"@context": LD_CONTEXT, **node} if not base else node


def _distribution(f: PackageFile, base: str) -> dict:
    dist: dict[str, Any] = {
        "@id": f"{base}{f.path}#distribution",
        "@type": "dcat:Distribution",
        "dct:identifier": f.key,
        "dct:title": [t for t in ({"@value": f.title_vi, "@language": "vi"}, {"@value": f.title, "@language": "en"})
                      if t["@value"]],
        "dcat:downloadURL": {"@id": f"{base}{f.path}"},
        "dcat:mediaType": f.mediatype,
        "dct:format": FORMATS.get(f.format, f.format.upper()),
        "dcat:byteSize": {"@value": f.size, "@type": "xsd:nonNegativeInteger"},
        "spdx:checksum": {"@type": "spdx:Checksum", "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
                          "spdx:checksumValue": f.sha256},
    }
    if f.role == "table":
        dist["dct:conformsTo"] = {"@id": TABLE_SCHEMA_SPEC}
    return dist


def rebase(node: Any, prefix: str) -> Any:
    """Prefix the relative '@id's of a dataset.jsonld written for its own folder."""
    if isinstance(node, list):
        return [rebase(n, prefix) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k == "@id" and isinstance(v, str) and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", v):
            out[k] = prefix + (v[2:] if v.startswith("./") else v)
        else:
            out[k] = rebase(v, prefix)
    return out
