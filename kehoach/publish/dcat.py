"""The catalogue and its datasets as DCAT-AP 3.0 in JSON-LD.

``dataset.jsonld`` (one per dataset folder) and ``catalog.jsonld`` (the portal's
root) conform to DCAT-AP 3.0: checked in the tests with the SHACL shapes SEMIC
publishes (``pyshacl``, RDFS inference, zero violations).

The JSON keeps relative ``@id``s (``data/tasks.csv``, ``<dataset>/``) so a
dataset's file can be embedded in the catalogue as it is; the ``@base`` of the
context makes every IRI absolute under the portal URL (``KEHOACH_PORTAL_URL``,
``kehoach.core.settings``). Every IRI of a controlled vocabulary is data in
``reference/``: media types (IANA) and file types (EU) in ``file_formats.csv``,
languages (EU) in ``languages.csv``, data themes (EU) in ``data_themes.csv``,
the country and an optional place IRI of each province in ``provinces.csv``.
Nodes that DCAT-AP constrains by class carry their ``@type`` (a media type is a
``dct:MediaType``, a checksum algorithm a ``spdx:ChecksumAlgorithm``, …), so the
graph conforms without anyone's ontology loaded.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from kehoach.core.places import coverage_vi_en, province_on
from kehoach.core.settings import Settings, settings
from kehoach.core.vocabularies import vocabulary
from kehoach.package.publisher import ISSUER_ROLE, province_row
from kehoach.publish.metadata import DatasetMeta, dataset_meta
from kehoach.publish.snapshot import PackageFile, Snapshot

DATA_PACKAGE_SPEC = "https://datapackage.org/standard/data-package/"
TABLE_SCHEMA_SPEC = "https://datapackage.org/standard/table-schema/"
SPDX_SHA256 = "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"
DATA_THEME_SCHEME = "http://publications.europa.eu/resource/authority/data-theme"
PUBLIC_ACCESS = "http://publications.europa.eu/resource/authority/access-right/PUBLIC"
LANDING_PAGES = ("index.html", "README.md")  # the first the package has is the dataset's landing page

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "spdx": "http://spdx.org/rdf/terms#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "adms": "http://www.w3.org/ns/adms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    # SPDX checksums are hex: typed here so the JSON keeps the bare digest
    "spdx:checksumValue": {"@type": "xsd:hexBinary"},
}


def context(base: str) -> dict:
    return {"@base": base, **CONTEXT}


def _texts(vi: str, en: str) -> list[dict]:
    return [t for t in ({"@value": vi, "@language": "vi"}, {"@value": en, "@language": "en"}) if t["@value"]]


def _ref(iri: str, kind: str, **more: Any) -> dict:
    return {"@id": iri, "@type": kind, **more}


def _datetime(value: str) -> dict:
    return {"@value": value, "@type": "xsd:dateTime"}


def formats() -> dict[str, dict[str, str]]:
    return {r["format"]: dict(r) for r in vocabulary("file_formats")}


def languages(codes: list[str]) -> list[dict]:
    known = {r["code"]: r for r in vocabulary("languages")}
    return [_ref(known[c]["iri"], "dct:LinguisticSystem", **{"skos:prefLabel": _texts(known[c]["name_vi"],
                                                                                        known[c]["name_en"])})
            for c in codes if c in known]


def language_iris(codes: list[str]) -> list[str]:
    return [node["@id"] for node in languages(codes)]


def themes(codes: list[str]) -> list[dict]:
    known = {r["code"]: r for r in vocabulary("data_themes")}
    return [_ref(known[c]["iri"], "skos:Concept", **{"skos:prefLabel": _texts(known[c]["label_vi"],
                                                                                known[c]["label_en"]),
                                                     "skos:inScheme": {"@id": DATA_THEME_SCHEME}})
            for c in codes if c in known]


def licence(meta: DatasetMeta) -> dict | None:
    path = meta.licence.get("path")
    if not path:
        return None
    return _ref(str(path), "dct:LicenseDocument", **{"rdfs:label": str(meta.licence.get("title") or path)})


def agent(name_vi: str, name_en: str = "", homepage: str = "", email: str = "") -> dict:
    node: dict[str, Any] = {"@type": ["foaf:Agent", "foaf:Organization"], "foaf:name": _texts(name_vi, name_en)}
    if homepage:
        node["foaf:homepage"] = _ref(homepage, "foaf:Document")
    if email:
        node["foaf:mbox"] = {"@id": f"mailto:{email}"}
    return node


def _contributor_agent(found: dict) -> dict:
    return agent(str(found.get("title") or ""), str(found.get("title_en") or ""), str(found.get("path") or ""),
                 str(found.get("email") or ""))


def settings_publisher(conf: Settings) -> dict:
    """The portal's organisation, from the settings."""
    return agent(conf.publisher, homepage=conf.publisher_homepage, email=conf.publisher_email)


def publisher(meta: DatasetMeta) -> dict:
    """The dataset's publisher: the portal's organisation (the package's contributor with role
    'publisher'; a package made before it said so: the settings). Never the plan's issuer."""
    found = next((c for c in meta.contributors if "publisher" in (c.get("roles") or [])
                  and ISSUER_ROLE not in (c.get("roles") or []) and c.get("title") not in meta.plan_issuers), None)
    return _contributor_agent(found) if found else settings_publisher(settings())


def creators(meta: DatasetMeta) -> list[dict]:
    """The issuers of the plans: the authors of the source texts."""
    found = [_contributor_agent(c) for c in meta.contributors if ISSUER_ROLE in (c.get("roles") or [])]
    return found or [agent(issuer) for issuer in meta.plan_issuers]


def derived_from(meta: DatasetMeta) -> list[dict]:
    """Each source text as a document (number, title, date, where it was published), created by its issuer."""
    by_name = {c["foaf:name"][0]["@value"]: c for c in creators(meta)}
    nodes = []
    for s in meta.sources:
        node: dict[str, Any] = {"@type": "foaf:Document", "dct:title": str(s.get("title") or s.get("path") or "")}
        if s.get("url"):
            node["@id"] = str(s["url"])
        if s.get("number"):
            node["dct:identifier"] = str(s["number"])
        if s.get("issued_date"):
            node["dct:issued"] = {"@value": str(s["issued_date"]), "@type": "xsd:date"}
        issuer = str(s.get("issuer") or "")
        if issuer:
            node["dct:creator"] = by_name.get(issuer) or agent(issuer)
        nodes.append(node)
    return nodes


def contact_point(meta: DatasetMeta) -> dict:
    found = next((c for c in meta.contributors if "contact" in (c.get("roles") or [])), None) or {}
    name = str(found.get("title") or settings().publisher)
    node: dict[str, Any] = {"@type": ["vcard:Organization", "vcard:Kind"], "vcard:fn": name}
    if found.get("email"):
        node["vcard:hasEmail"] = {"@id": f"mailto:{found['email']}"}
    if found.get("path"):
        node["vcard:hasURL"] = {"@id": str(found["path"])}
    return node


def spatial(meta: DatasetMeta) -> list[dict]:
    """Each province of the plans (its place IRI when the reference row has one), and its country.
    A province is given as it was on the plans' issue dates: its code then, and what it covered
    (provinces were merged on 1 July 2025: code 51 is not the same territory before and after)."""
    nodes: list[dict] = []
    territories: set[tuple] = set()
    for plan in meta.plans or [{"province": p} for p in meta.provinces]:
        province = plan.get("province")
        if not province:
            continue
        issued = date.fromisoformat(plan["issued_date"]) if plan.get("issued_date") else None
        found = province_on(province, issued) if issued else None
        territory = (province, found.code, found.valid_from) if found else (province,)
        if territory in territories:
            continue
        territories.add(territory)
        row = province_row(province)
        place: dict[str, Any] = {"@type": "dct:Location",
                                 "skos:prefLabel": _texts(f"{row.get('unit', '')} {province}".strip(),
                                                          f"{row.get('name_en') or province} province")}
        if row.get("spatial_iri"):
            place["@id"] = row["spatial_iri"]
        code = (found.code if found else "") or row.get("admin_code")
        if code:
            place["dct:identifier"] = code
        if found:
            place["skos:scopeNote"] = _texts(*coverage_vi_en(province, issued))
        nodes.append(place)
        country = row.get("country_iri")
        if country and all(n.get("@id") != country for n in nodes):
            nodes.append(_ref(country, "dct:Location"))
    return nodes


def landing_page(snap: Snapshot) -> str:
    paths = {f.path for f in snap.files}
    return next((p for p in LANDING_PAGES if p in paths), "")


def dcat_dataset(snap: Snapshot, base: str, folder: str | None = None, conf: Settings | None = None) -> dict:
    """The dataset as DCAT-AP; ``base`` prefixes the relative IRIs of its files ('' in its own folder,
    where the context's ``@base`` is the dataset's folder ``folder`` in the portal)."""
    conf = conf or settings()
    meta = dataset_meta(snap)
    node: dict[str, Any] = {
        "@id": base or "./",
        "@type": "dcat:Dataset",
        "dct:identifier": meta.name,
        "dct:title": _texts(meta.title_vi, meta.title_en),
        "dct:description": _texts(meta.description_vi, meta.description_en),
        "dcat:keyword": meta.keywords,
        "dcat:version": meta.version,
        "owl:versionInfo": meta.version,
        "dct:issued": _datetime(meta.issued or meta.created),
        "dct:modified": _datetime(meta.created),
        "dct:language": languages(meta.language),
        "dct:conformsTo": _ref(DATA_PACKAGE_SPEC, "dct:Standard", **{"rdfs:label": "Data Package"}),
        "dct:provenance": {"@type": "dct:ProvenanceStatement", "rdfs:label": meta.provenance},
        "dct:accessRights": _ref(PUBLIC_ACCESS, "dct:RightsStatement"),
        "dct:publisher": publisher(meta),
        "dct:creator": creators(meta),
        "prov:wasDerivedFrom": derived_from(meta),
        "dcat:contactPoint": contact_point(meta),
        "dcat:theme": themes(meta.themes),
        "dct:spatial": spatial(meta),
    }
    if meta.change_summary_en or meta.change_summary_vi:
        node["adms:versionNotes"] = _texts(meta.change_summary_vi, meta.change_summary_en)
    lic = licence(meta)
    if lic:
        node["dct:license"] = lic
    start, end = meta.temporal
    if start:
        node["dct:temporal"] = {"@type": "dct:PeriodOfTime",
                                "dcat:startDate": {"@value": start, "@type": "xsd:date"},
                                "dcat:endDate": {"@value": end, "@type": "xsd:date"}}
    page = landing_page(snap)
    if page:
        node["dcat:landingPage"] = _ref(f"{base}{page}", "foaf:Document")
    if meta.landing_page:  # where the source text was published
        node["foaf:page"] = _ref(meta.landing_page, "foaf:Document")
    node["dcat:distribution"] = [_distribution(f, base, meta, lic) for f in snap.files]
    return {"@context": context(conf.dataset_url(folder or snap.name)), **node} if not base else node


def _distribution(f: PackageFile, base: str, meta: DatasetMeta, lic: dict | None) -> dict:
    fmt = formats().get(f.format, {})
    url = {"@id": f"{base}{f.path}"}
    dist: dict[str, Any] = {
        "@id": f"{base}{f.path}#distribution",
        "@type": "dcat:Distribution",
        "dct:identifier": f.key,
        "dct:title": [t for t in ({"@value": f.title_vi, "@language": "vi"}, {"@value": f.title, "@language": "en"})
                      if t["@value"]] or f.path,
        "dcat:accessURL": url,
        "dcat:downloadURL": url,
        "dcat:byteSize": {"@value": f.size, "@type": "xsd:nonNegativeInteger"},
        "dct:modified": _datetime(meta.created),
        "spdx:checksum": {"@type": "spdx:Checksum",
                          "spdx:algorithm": _ref(SPDX_SHA256, "spdx:ChecksumAlgorithm"),
                          "spdx:checksumValue": f.sha256},
    }
    if fmt.get("media_type_iri"):
        dist["dcat:mediaType"] = _ref(fmt["media_type_iri"], "dct:MediaType")
    if fmt.get("file_type_iri"):
        dist["dct:format"] = _ref(fmt["file_type_iri"], "dct:MediaTypeOrExtent")
    if lic:
        dist["dct:license"] = lic
    if f.role == "table":
        dist["dct:conformsTo"] = _ref(TABLE_SCHEMA_SPEC, "dct:Standard", **{"rdfs:label": "Table Schema"})
    return dist


def dcat_catalog(datasets: list[dict], conf: Settings | None = None) -> dict:
    """The portal's catalogue of ``datasets`` (nodes with IRIs relative to the portal URL)."""
    conf = conf or settings()
    modified = sorted(d["dct:modified"]["@value"] for d in datasets if isinstance(d.get("dct:modified"), dict))
    catalog: dict[str, Any] = {
        "@context": context(conf.portal_url),
        "@id": "",
        "@type": "dcat:Catalog",
        "dct:title": _texts("Dữ liệu mở kế hoạch của cơ quan nhà nước", "kehoach open data"),
        "dct:description": _texts(
            "Dữ liệu mở trích xuất từ các văn bản kế hoạch của cơ quan nhà nước Việt Nam: nhiệm vụ, kinh phí, "
            "đầu tư, cơ quan chủ trì và kết quả kiểm tra tính nhất quán của văn bản.",
            "Open data extracted from the plan documents of Vietnamese state bodies: tasks, budgets, investments, "
            "lead agencies and the audit of each document's consistency."),
        "dct:publisher": settings_publisher(conf),
        "dct:language": languages(["vi", "en"]),
        "dcat:themeTaxonomy": _ref(DATA_THEME_SCHEME, "skos:ConceptScheme",
                                   **{"dct:title": {"@value": "Data theme", "@language": "en"}}),
        "dcat:dataset": datasets,
    }
    if modified:
        catalog["dct:modified"] = _datetime(modified[-1])
    return catalog


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
