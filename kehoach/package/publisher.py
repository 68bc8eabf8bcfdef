"""Who published the plan and whom to ask: the package's ``contributors``.

The publisher of a plan's data is the body that issued the plan (``plans.issuer``),
named in English as the agency code list names it and with its website from the
province's row in ``reference/provinces.csv``. The contact is the issuer too,
unless ``KEHOACH_CONTACT_NAME``/``KEHOACH_CONTACT_EMAIL`` name someone else
(``kehoach.core.settings``). Nothing here is specific to one province.
"""

from __future__ import annotations

from kehoach.core.model import Tables
from kehoach.core.settings import settings
from kehoach.core.text import key
from kehoach.core.vocabularies import vocabulary


def province_row(province: str) -> dict[str, str]:
    """The row of ``reference/provinces.csv`` for a province name (empty when unknown)."""
    return next((dict(r) for r in vocabulary("provinces") if key(r["name_vi"]) == key(province or "")), {})


def _english_name(tables: Tables, name_vi: str) -> str:
    if "agencies" not in tables:
        return ""
    found = [a for a in tables["agencies"].to_pylist() if key(a["name_vi"] or "") == key(name_vi)]
    return str(found[0]["name_en"] or "") if found else ""


def publishers(tables: Tables) -> list[dict]:
    """One contributor per distinct issuer of the package's plans, role 'publisher'."""
    out: list[dict] = []
    for plan in tables["plans"].to_pylist():
        issuer = plan.get("issuer") or ""
        if not issuer or any(c["title"] == issuer for c in out):
            continue
        entry = {"title": issuer, "roles": ["publisher"]}
        name_en = _english_name(tables, issuer)
        if name_en:
            entry["title_en"] = name_en
        website = province_row(plan.get("province") or "").get("website")
        if website:
            entry["path"] = website
        out.append(entry)
    return out


def contributors(tables: Tables) -> list[dict]:
    """The publishers, and the contact: a configured one, else the (first) publisher."""
    found = publishers(tables)
    s = settings()
    if s.contact_name or s.contact_email:
        contact = {"title": s.contact_name or s.publisher, "roles": ["contact"]}
        if s.contact_email:
            contact["email"] = s.contact_email
        found.append(contact)
    elif found:
        found[0] = {**found[0], "roles": [*found[0]["roles"], "contact"]}
    return found
