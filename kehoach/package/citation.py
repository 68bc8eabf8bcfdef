"""``CITATION.cff``: how to cite the package (Citation File Format 1.2.0).

The dataset's author is its publisher, the portal's organisation (name,
e-mail, web address: ``kehoach.core.settings``); the plan's issuer is the
author of the text the data comes from, named in ``references``. The
recommended citation names the publisher, the package's title, each plan's
issuer, number and date, the package version and its address in the portal. The same sentence is in
the README (``recommended``). Values are written as JSON strings, which YAML
reads unchanged, so no quoting rule of YAML can bite.
"""

from __future__ import annotations

import json
from pathlib import Path

from kehoach.core.model import Tables, package_descriptor
from kehoach.core.settings import settings
from kehoach.package.source_files import published_at
from kehoach.package.writer import file_resource

CITATION_FILE = "CITATION.cff"
CITATION_RESOURCE = "citation"
MESSAGE = "Nếu dùng dữ liệu này, xin trích dẫn như sau. / If you use this data, please cite it as below."


def _plans(tables: Tables) -> list[dict]:
    return tables["plans"].to_pylist()


def recommended(tables: Tables, extra: dict) -> str:
    """One sentence: publisher. Title (issuer, number, date). Dataset, version X. URL."""
    plans = "; ".join(", ".join(str(x) for x in (p["issuer"], p["number"], f"{p['issued_date']:%d/%m/%Y}") if x)
                      for p in _plans(tables))
    return (f"{settings().publisher}. {extra['title_vi'].split(' (')[0]} ({plans}). "
            f"Dữ liệu mở / open data, phiên bản / version {extra['version']} ({extra['created'][:10]}). "
            f"{extra['homepage']}")


def _author(q) -> list[str]:
    conf = settings()
    lines = [f"  - name: {q(conf.publisher)}"]
    if conf.publisher_email:
        lines.append(f"    email: {q(conf.publisher_email)}")
    return [*lines, f"    website: {q(conf.publisher_homepage)}"]


def render(tables: Tables, extra: dict, licence: str, keywords: list[str],
           published: dict[str, str] | None = None) -> str:
    """``published``: the page each source text (by file name) was published on, when known."""
    def q(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = [
        "cff-version: 1.2.0",
        f"message: {q(MESSAGE)}",
        "type: dataset",
        f"title: {q(extra['title_vi'] + ' — ' + extra['title_en'])}",
        "authors:",
        *_author(q),
        f"version: {q(extra['version'])}",
        f"date-released: {q(extra['created'][:10])}",
        f"url: {q(extra['homepage'])}",
        "identifiers:",
        "  - type: url",
        f"    value: {q(extra['id'])}",
        f"    description: {q(recommended(tables, extra))}",
        f"license: {q(licence)}",
        "keywords:",
        *[f"  - {q(k)}" for k in keywords],
        "references:",
    ]
    for p in _plans(tables):
        lines += [
            "  - type: report",
            f"    title: {q(p['title'])}",
            f"    number: {q(p['number'])}",
            f"    date-published: {q(p['issued_date'].isoformat())}",
            "    authors:",
            f"      - name: {q(p['issuer'])}",
        ]
        url = (published or {}).get(p.get("source_file") or "")
        if url:  # where the text was published: the official source
            lines.append(f"    url: {q(url)}")
    return "\n".join(lines) + "\n"


def stage_citation(tables: Tables, directory: Path, extra: dict) -> list[dict]:
    """Stage hook: write CITATION.cff (needs the identity ``kehoach.package.identity`` put in ``extra``)."""
    base = package_descriptor()
    published = {f: published_at(directory, f)[0] for f in tables["plans"].column("source_file").to_pylist() if f}
    text = render(tables, extra, base["licenses"][0]["name"], base["keywords"], published)
    (directory / CITATION_FILE).write_text(text, encoding="utf-8")
    return [file_resource(directory, CITATION_FILE, CITATION_RESOURCE, format="cff", mediatype="application/yaml",
                          title="How to cite this package (Citation File Format)",
                          title_vi="Cách trích dẫn gói dữ liệu (Citation File Format)")]
