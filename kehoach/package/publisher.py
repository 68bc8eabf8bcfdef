"""Who made the source, who publishes the data, whom to ask: the package's ``contributors``.

Two parties, kept apart:

- the **issuer** of each plan (``plans.issuer``), role ``creator``: the author of
  the source text the data is derived from, named in English as the agency
  code list names it, with the website of its province (``reference/provinces.csv``);
- the **publisher** of the dataset, role ``publisher``: the organisation that
  runs the portal (``KEHOACH_PUBLISHER``, ``…_EMAIL``, ``…_URL``: ``kehoach.core.settings``).
  The issuer did not publish this dataset, so it is never given that role.

The contact is the publisher, unless ``KEHOACH_CONTACT_NAME``/``KEHOACH_CONTACT_EMAIL``
name someone else. Nothing here is specific to one province.
"""

from __future__ import annotations

from kehoach.core.model import Tables
from kehoach.core.settings import Settings, settings
from kehoach.core.text import key
from kehoach.core.vocabularies import vocabulary

ISSUER_ROLE = "creator"


def province_row(province: str) -> dict[str, str]:
    """The row of ``reference/provinces.csv`` for a province name (empty when unknown)."""
    return next((dict(r) for r in vocabulary("provinces") if key(r["name_vi"]) == key(province or "")), {})


def _english_name(tables: Tables, name_vi: str) -> str:
    if "agencies" not in tables:
        return ""
    found = [a for a in tables["agencies"].to_pylist() if key(a["name_vi"] or "") == key(name_vi)]
    return str(found[0]["name_en"] or "") if found else ""


def issuers(tables: Tables) -> list[dict]:
    """One contributor per distinct issuer of the package's plans, role 'creator' (of the source text)."""
    out: list[dict] = []
    for plan in tables["plans"].to_pylist():
        issuer = plan.get("issuer") or ""
        if not issuer or any(c["title"] == issuer for c in out):
            continue
        entry = {"title": issuer, "roles": [ISSUER_ROLE]}
        name_en = _english_name(tables, issuer)
        if name_en:
            entry["title_en"] = name_en
        website = province_row(plan.get("province") or "").get("website")
        if website:
            entry["path"] = website
        out.append(entry)
    return out


def publisher(conf: Settings) -> dict:
    """The portal's organisation as a contributor, role 'publisher'."""
    entry = {"title": conf.publisher, "roles": ["publisher"], "path": conf.publisher_homepage}
    if conf.publisher_email:
        entry["email"] = conf.publisher_email
    return entry


def contributors(tables: Tables) -> list[dict]:
    """The publisher, the contact (a configured one, else the publisher), and the issuers."""
    conf = settings()
    found = [publisher(conf)]
    if conf.contact_name or conf.contact_email:
        contact = {"title": conf.contact_name or conf.publisher, "roles": ["contact"]}
        if conf.contact_email:
            contact["email"] = conf.contact_email
        found.append(contact)
    else:
        found[0]["roles"].append("contact")
    return found + issuers(tables)
