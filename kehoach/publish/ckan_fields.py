"""The mapping of a package to CKAN fields (dataset, extras, resources) for ckanext-dcat.

Field mapping (CKAN core fields and free extras, laid out for ckanext-dcat's
``euro_dcat_ap_2``/``euro_dcat_ap_3`` profiles, which read extras as DCAT; the
IRIs are the ones ``kehoach.publish.dcat`` writes to the portal folder):

==========================  =================================  ==========================
CKAN dataset field          from the package                   DCAT (ckanext-dcat)
==========================  =================================  ==========================
name                        descriptor ``name`` made slug-safe  -
                            (or ``--dataset``)
title                       ``title`` ("vi — en")              dct:title
notes                       description vi + en, source,       dct:description
                            licence note (Markdown)
license_id                  ``licenses[0].name`` (CC-BY-4.0    dct:license (via CKAN's
                            -> cc-by)                          licence register)
version                     ``version``                        owl:versionInfo
url                         first source ``url``, else the     dcat:landingPage
                            issuer's website
tags                        ``keywords``                       dcat:keyword
owner_org                   ``--org`` / CKAN_ORGANIZATION      dct:publisher (fallback)
extras identifier           descriptor ``name``                dct:identifier
extras modified             ``created`` of this version        dct:modified
extras language             EU language IRIs (JSON list)       dct:language
extras conforms_to          ["…/data-package/"]                dct:conformsTo
extras issued               ``issued`` (first version)         dct:issued
extras theme                EU data-theme IRIs (JSON list)     dcat:theme
extras access_rights        EU access-right PUBLIC             dct:accessRights
extras version_notes        ``change_summary``                 adms:versionNotes
extras documentation        source ``url`` (if any)            foaf:page
extras publisher_name,      the portal's organisation          dct:publisher (foaf:Agent)
  publisher_url, _email     (KEHOACH_PUBLISHER, _URL, _EMAIL)
extras creator_name,        the plan's issuer (contributor     dct:creator
  creator_url; author       with role creator), its website
extras contact_name,        contributor with role contact      dcat:contactPoint (vcard)
  contact_email, contact_uri
extras spatial_uri,         the province (reference/           dct:spatial
  spatial_text              provinces.csv)
extras temporal_start/_end  plans.plan_year (1 Jan–31 Dec)     dct:temporal
extras provenance           generator + sources                dct:provenance
extras title_vi/title_en,   the bilingual texts                -
  description_vi/_en
extras plan_number,         plans (or sources): number,        -
  plan_issuer,              issuer, issued date ("; " joined)
  plan_issued_date
extras source_sha256        sources' sha256 (", " joined)      -
extras content_sha256       ``content_sha256``                 -
extras kehoach_managed,     "true", ``generator``              -
  kehoach_generator
==========================  =================================  ==========================

Each resource: ``name`` = its titles in words and its format ("Nhiệm vụ / Tasks
(CSV)"), ``kehoach_key`` = the Frictionless resource name it is matched by
(``tasks``, ``tasks-parquet``, …; ``datapackage`` for datapackage.json and
``datapackage-zip`` for the zip; a resource published before, without it, is
matched by ``name``), listed with the ZIP, the workbook and the landing page
first; ``description`` = bilingual title and
description plus the field list of its Table Schema (Markdown), ``format``,
``mimetype`` (dcat:mediaType), ``hash`` = sha256 hex and ``hash_algorithm`` =
SPDX sha256 (spdx:checksum), ``size`` (dcat:byteSize; CKAN sets it from the
upload anyway), ``license`` = the licence IRI (dct:license), ``rows``, ``schema`` (the Table Schema as JSON, which
ckanext-validation reads), ``conforms_to`` (Table Schema spec, tables only),
``title_vi``/``title_en``, and ``kehoach_managed`` = "true",
``kehoach_path``, ``kehoach_role``. Only resources marked
``kehoach_managed`` are ever deleted.

Known gap: ``mimetype`` and ``format`` stay CKAN's plain values (``text/csv``,
``CSV``): CKAN serves an upload with ``Content-Type`` = ``mimetype`` and keys
its format facet and previews on ``format``, so they cannot be the IANA and EU
IRIs that DCAT-AP 3.0 wants; ckanext-dcat then writes them as literals. The
portal folder's JSON-LD has the IRIs (``reference/file_formats.csv``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from kehoach.core.settings import Settings
from kehoach.publish import dcat
from kehoach.publish.dcat import DATA_PACKAGE_SPEC, PUBLIC_ACCESS, SPDX_SHA256, TABLE_SCHEMA_SPEC
from kehoach.publish.metadata import FORMATS, DatasetMeta
from kehoach.publish.snapshot import PackageFile

LICENCES = {"CC-BY-4.0": "cc-by", "CC-BY-SA-4.0": "cc-by-sa", "CC0-1.0": "cc-zero", "ODC-BY-1.0": "odc-by",
            "ODBL-1.0": "odc-odbl", "PDDL-1.0": "odc-pddl", "OGL-UK-3.0": "uk-ogl"}
# Every extra this tool may write: one it no longer writes is removed, others are kept.
MANAGED_EXTRAS = ("title_vi", "title_en", "description_vi", "description_en", "identifier", "modified",
                  "language", "conforms_to", "provenance", "temporal_start", "temporal_end", "plan_number",
                  "plan_issuer", "plan_issued_date", "source_sha256", "content_sha256", "kehoach_managed",
                  "kehoach_generator", "issued", "theme", "access_rights", "version_notes", "documentation",
                  "publisher_name", "publisher_url", "publisher_email", "contact_name", "contact_email",
                  "contact_uri", "creator_name", "creator_url", "spatial_uri", "spatial_text")


def _s(value: Any) -> str:
    """CKAN gives back None, '' or numbers where we sent strings: compare as text."""
    return "" if value is None else str(value)


def _norm_hash(value: Any) -> str:
    return _s(value).strip().lower().removeprefix("sha256:")


def tags(keywords: list[str]) -> list[str]:
    """Keywords as CKAN tags (2-100 characters of letters, digits, space, '-', '_', '.')."""
    out: list[str] = []
    for kw in keywords:
        tag = " ".join(re.sub(r"[^\w \-.]", " ", kw).split())[:100].strip()
        if len(tag) >= 2 and tag not in out:
            out.append(tag)
    return out


def notes(meta: DatasetMeta) -> str:
    parts = [meta.description_vi, meta.description_en]
    for s in meta.sources:
        facts = ", ".join(str(s[k]) for k in ("number", "issuer", "issued_date") if s.get(k))
        digest = _norm_hash(s.get("hash"))
        where = f"<{s['url']}>" if s.get("url") else str(s.get("url_note") or "")
        parts.append(f"**Nguồn / Source:** {s.get('title', '')}" + (f" ({facts})" if facts else "")
                     + (f", sha256 `{digest}`" if digest else "")
                     + (f"\n\n**Nơi công bố / Published at:** {where}" if where else ""))
    licence = meta.licence.get("title") or meta.licence.get("name")
    if licence:
        parts.append(f"**Giấy phép / Licence:** {licence}. {meta.licence_note_vi} {meta.licence_note_en}".strip())
    return "\n\n".join(p for p in parts if p)


def _dcat_extras(meta: DatasetMeta) -> dict[str, str]:
    """The extras ckanext-dcat's euro_dcat_ap profiles turn into DCAT-AP, with the IRIs of ``dcat``."""
    agent = dcat.publisher(meta)
    creators = dcat.creators(meta)
    contact = dcat.contact_point(meta)
    places = dcat.spatial(meta)
    place_iri = next((p["@id"] for p in places if p.get("@id")), "")
    place_text = next((p["skos:prefLabel"][0]["@value"] for p in places if p.get("skos:prefLabel")), "")
    return {
        "issued": meta.issued or meta.created,
        "theme": json.dumps([t["@id"] for t in dcat.themes(meta.themes)]),
        "access_rights": PUBLIC_ACCESS,
        "version_notes": meta.change_summary_en,
        "documentation": json.dumps([meta.landing_page]) if meta.landing_page else "",
        "publisher_name": agent["foaf:name"][0]["@value"],
        "publisher_url": (agent.get("foaf:homepage") or {}).get("@id", ""),
        "publisher_email": (agent.get("foaf:mbox") or {}).get("@id", "").removeprefix("mailto:"),
        # the plan's issuer: the author of the source, not the publisher
        "creator_name": "; ".join(c["foaf:name"][0]["@value"] for c in creators),
        "creator_url": next(((c.get("foaf:homepage") or {}).get("@id", "") for c in creators), ""),
        "contact_name": contact["vcard:fn"],
        "contact_email": (contact.get("vcard:hasEmail") or {}).get("@id", "").removeprefix("mailto:"),
        "contact_uri": (contact.get("vcard:hasURL") or {}).get("@id", ""),
        "spatial_uri": place_iri,
        "spatial_text": place_text,
    }


def dataset_fields(meta: DatasetMeta, name: str, org_id: str) -> dict:
    """The CKAN dataset (without resources) for a package; see the module docstring."""
    start, end = meta.temporal
    extras = {
        **_dcat_extras(meta),
        "title_vi": meta.title_vi,
        "title_en": meta.title_en,
        "description_vi": meta.description_vi,
        "description_en": meta.description_en,
        "identifier": meta.name,
        "modified": meta.created,
        "language": json.dumps(dcat.language_iris(meta.language)) if meta.language else "",
        "conforms_to": json.dumps([DATA_PACKAGE_SPEC]),
        "provenance": meta.provenance,
        "temporal_start": start,
        "temporal_end": end,
        "plan_number": "; ".join(meta.plan_numbers),
        "plan_issuer": "; ".join(meta.plan_issuers),
        "plan_issued_date": "; ".join(meta.plan_issued_dates),
        "source_sha256": ", ".join(meta.source_sha256),
        "content_sha256": meta.content_sha256,
        "kehoach_managed": "true",
        "kehoach_generator": meta.generator,
    }
    licence = str(meta.licence.get("name") or "")
    return {
        "name": name,
        "title": meta.title,
        "notes": notes(meta),
        "owner_org": org_id,
        "license_id": LICENCES.get(licence.upper(), licence.lower() or "notspecified"),
        "version": meta.version,
        "url": meta.source_url,
        "author": extras["creator_name"],
        "maintainer": extras["contact_name"],
        "maintainer_email": extras["contact_email"],
        "private": False,
        "tags": [{"name": t} for t in tags(meta.keywords)],
        "extras": [{"key": k, "value": v} for k, v in sorted(extras.items()) if v],
    }


def dataset_patch(current: dict, desired: dict) -> dict:
    """The fields of ``desired`` that differ in ``current`` (empty: nothing to write)."""
    patch: dict[str, Any] = {}
    for key in ("title", "notes", "license_id", "version", "url", "author", "maintainer", "maintainer_email"):
        if _s(current.get(key)) != _s(desired[key]):
            patch[key] = desired[key]
    if bool(current.get("private")) != desired["private"]:
        patch["private"] = desired["private"]
    if current.get("state", "active") != "active":
        patch["state"] = "active"  # deleted but not purged: bring it back
    if sorted(t.get("name") for t in current.get("tags") or []) != sorted(t["name"] for t in desired["tags"]):
        patch["tags"] = desired["tags"]
    have = {e["key"]: e.get("value") for e in current.get("extras") or []}
    want = {e["key"]: e["value"] for e in desired["extras"]}
    stale = [k for k in MANAGED_EXTRAS if k in have and k not in want]
    if stale or any(_s(have.get(k)) != v for k, v in want.items()):
        foreign = [{"key": k, "value": v} for k, v in sorted(have.items()) if k not in MANAGED_EXTRAS]
        patch["extras"] = foreign + desired["extras"]
    return patch


# Shown first on the dataset page, in this order: the whole package, the workbook, the landing page.
FIRST = (("role", "archive"), ("format", "xlsx"), ("path", "index.html"))


def resource_order(files: list[PackageFile]) -> list[PackageFile]:
    """The files in the order the dataset page lists them: ``FIRST``, then the package's order."""
    def rank(f: PackageFile) -> int:
        return next((i for i, (attr, value) in enumerate(FIRST) if getattr(f, attr) == value), len(FIRST))

    return sorted(files, key=rank)


def resource_name(f: PackageFile) -> str:
    """What the dataset page calls a file: its titles in words (vi / en) and its format
    ('Nhiệm vụ / Tasks (CSV)'); the key it is matched by is ``kehoach_key``."""
    fmt = FORMATS.get(f.format, f.format.upper())
    vi, en = f.title_vi or f.title, f.title or f.title_vi
    words = (vi if vi == en else f"{vi} / {en}") if vi or en else f.path
    return words if f"({fmt})" in words else f"{words} ({fmt})"


def resource_description(f: PackageFile) -> str:
    head = " — ".join(t for t in (f.title_vi, f.title) if t)
    parts = [f"**{head}**" if head else "", f.description_vi, f.description]
    fields = (f.schema or {}).get("fields") or []
    if fields:
        lines = ["Cột / Fields:", ""]  # Markdown starts a list only after a blank line
        for fd in fields:
            titles = " / ".join(t for t in (fd.get("title_vi"), fd.get("title")) if t)
            lines.append(f"- `{fd.get('name')}` ({fd.get('type', 'any')})" + (f": {titles}" if titles else ""))
        key = (f.schema or {}).get("primaryKey")
        if key:
            key = [key] if isinstance(key, str) else key
            lines.append(f"\nKhóa chính / Primary key: {', '.join(f'`{k}`' for k in key)}")
        parts.append("\n".join(lines))
    return "\n\n".join(p for p in parts if p)


def resource_fields(f: PackageFile, licence_iri: str = "") -> dict[str, str]:
    """The CKAN resource for a file (strings only: they go out as multipart form fields)."""
    fields = {
        "name": resource_name(f),
        "kehoach_key": f.key,
        "description": resource_description(f),
        "format": FORMATS.get(f.format, f.format.upper()),
        "mimetype": f.mediatype,
        "hash": f.sha256,
        "hash_algorithm": SPDX_SHA256,
        "size": str(f.size),
        "kehoach_managed": "true",
        "kehoach_path": f.path,
        "kehoach_role": f.role,
    }
    if licence_iri:
        fields["license"] = licence_iri
    if f.title:
        fields["title_en"] = f.title
    if f.title_vi:
        fields["title_vi"] = f.title_vi
    if f.rows is not None:
        fields["rows"] = str(f.rows)
    if f.schema:
        fields["schema"] = json.dumps(f.schema, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        fields["conforms_to"] = json.dumps([TABLE_SCHEMA_SPEC])
    return fields


def resource_key(resource: dict) -> str:
    """The package resource a CKAN resource stands for (its name, for one published before keys)."""
    return _s(resource.get("kehoach_key")) or _s(resource.get("name"))


def stands_for(resource: dict, f: PackageFile) -> bool:
    """Whether a CKAN resource is the one for ``f``: by ``kehoach_key``, or by name as published
    before resources were named in words."""
    key = _s(resource.get("kehoach_key"))
    return key == f.key if key else resource.get("name") == f.key


def organisation_fields(name: str, conf: Settings) -> dict[str, str]:
    """The organisation as the settings describe the publisher (title, description, logo)."""
    fields = {"name": name, "title": conf.publisher if conf.publisher != name else name}
    if conf.publisher_description:
        fields["description"] = conf.publisher_description
    if conf.publisher_image:
        fields["image_url"] = conf.publisher_image
    return fields


def organisation_patch(current: dict, desired: dict) -> dict[str, str]:
    return {k: v for k, v in desired.items() if k != "name" and _s(current.get(k)) != v}


def is_managed(resource: dict) -> bool:
    return _s(resource.get("kehoach_managed")).lower() == "true"


def needs_upload(current: dict, f: PackageFile) -> bool:
    return (current.get("url_type") != "upload" or _norm_hash(current.get("hash")) != f.sha256
            or _s(current.get("size")) != str(f.size))


def resource_patch(current: dict, f: PackageFile, licence_iri: str = "") -> dict[str, str]:
    return {k: v for k, v in resource_fields(f, licence_iri).items() if _s(current.get(k)) != v}


@dataclass(frozen=True)
class ResourceChange:
    """What a file's resource needs: its fields written, with the file or without."""

    action: str  # "created" or "updated", as the publish report says
    fields: dict[str, str]  # every field (created, re-uploaded), or only those that differ (patched)
    upload: bool  # the file goes too


def resource_change(current: dict | None, f: PackageFile, licence_iri: str = "") -> ResourceChange | None:
    """How the resource standing for ``f`` (``current``; None: there is none) must change; None: it need not.
    One decision for the dry run, the batched ``package_revise`` and the call per file."""
    if current is None:
        return ResourceChange("created", resource_fields(f, licence_iri), True)
    if needs_upload(current, f):
        return ResourceChange("updated", resource_fields(f, licence_iri), True)
    if patch := resource_patch(current, f, licence_iri):
        return ResourceChange("updated", patch, False)
    return None


def human_size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n} bytes"
