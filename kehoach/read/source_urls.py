"""Where a source was published, as the build is told it (``--source-url``): which address goes to which text.

The page a text was copied from belongs in its origin record (``url``); a build can be given it
instead, and then the address given wins over the record's (``with_url`` writes it into the
record the package ships). A value is either an address alone, for a build
of exactly one text, or ``FILE=URL``, repeated, one per text (``FILE`` by its path or, when no
other text has it, its file name). An address is an ``http``/``https`` URL with a host and no
spaces. Standard library only: the CLI checks the values before it starts Prefect.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from kehoach.core.errors import KehoachError

OPTION = "--source-url"
SCHEMES = ("http", "https")
# An address alone (not FILE=URL): a scheme then '://'. A file name may hold '=' but not '://'.
_ADDRESS = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
ONE_SOURCE = ""  # the key of an address given alone: the build's one text
Source = TypeVar("Source")  # a kehoach.read.sources.SourceFile (that module is not imported: the CLI imports this one)


def checked_url(url: str) -> str:
    """``url`` if it is a web address a reader can open, else a one-line error."""
    try:
        parts = urlsplit(url) if _ADDRESS.match(url) else None
        host = parts.hostname if parts else None
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = host = None
    if parts is None or parts.scheme.lower() not in SCHEMES or not host or re.search(r"\s", url):
        raise KehoachError(f"{url!r} is not a web address (http:// or https://, a host, no spaces)", OPTION)
    return url


def parse(values: list[str] | None) -> dict[str, str]:
    """The values of ``--source-url`` as {FILE: URL} ({'': URL} for an address alone), checked."""
    given: dict[str, str] = {}
    for value in values or []:
        value = value.strip()
        if _ADDRESS.match(value):
            key, url = ONE_SOURCE, value
        elif "=" in value:
            key, url = (part.strip() for part in value.split("=", 1))
            if not key:
                raise KehoachError(f"{value!r} names no file before '='", OPTION)
        else:
            raise KehoachError(f"{value!r} is neither a web address nor FILE=URL", OPTION)
        if key in given and given[key] != url:
            raise KehoachError(f"two addresses for {key or 'the one source'}: {given[key]} and {url}", OPTION)
        given[key] = checked_url(url)
    return given


def attach(given: dict[str, str], paths: list[str]) -> dict[str, str]:
    """The addresses ``given`` (``parse``) by the path of the text each goes to, among the build's ``paths``."""
    attached: dict[str, str] = {}
    for key, url in given.items():
        if key == ONE_SOURCE:
            if len(paths) != 1:
                raise KehoachError(f"{url} alone is ambiguous: this build reads {len(paths)} texts; "
                                   f"say which one with {OPTION} FILE=URL", OPTION)
            found = paths
        else:
            found = _matching(key, paths)
        if found[0] in attached and attached[found[0]] != url:
            raise KehoachError(f"two addresses for {found[0]}: {attached[found[0]]} and {url}", OPTION)
        attached[found[0]] = url
    return attached


def origin_bytes(origin: dict) -> bytes:
    """An origin record as the build writes it (``with_url``), in the package's ``source/``."""
    return (json.dumps(origin, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def with_url(source: Source, url: str | None) -> Source:
    """The source with ``url``, given to the build, as where it was published, in place of its
    origin record's: the record the package ships says so, and its hash is that record's (a
    changed address is a changed input). No address, or the record's, changes nothing."""
    recorded = source.origin.get("url")
    if url is None or recorded == url:
        return source
    origin = {**source.origin, "url": url,
              "url_note": f"given to the build ({OPTION}), in place of the origin record's url ({recorded or 'none'})"}
    return replace(source, origin=origin, origin_sha256=hashlib.sha256(origin_bytes(origin)).hexdigest())


def _matching(key: str, paths: list[str]) -> list[str]:
    """The one text ``key`` names: by its path, else by its file name; a located error otherwise."""
    wanted = Path(key).resolve()
    found = [p for p in paths if Path(p).resolve() == wanted]
    if not found and Path(key).name == key:
        found = [p for p in paths if Path(p).name == key]
    if not found:
        raise KehoachError(f"{OPTION} names a file this build does not read", key)
    if len(found) > 1:
        raise KehoachError(f"{OPTION} names {len(found)} texts of this build ({', '.join(found)}): give its path",
                           key)
    return found


def changed(previous: dict | None, sources: list) -> tuple[str, ...]:
    """'file → URL' for each of ``sources`` (``SourceRecord``) whose address, its origin record's
    url, differs from the one the package in place (its descriptor ``previous``) gives it ('—': none now)."""
    before = {Path(str(s.get("path", ""))).name: str(s.get("url") or "") for s in (previous or {}).get("sources", [])}
    now = {Path(s.path).name: str(s.origin.get("url") or "") for s in sources}
    return tuple(f"{name} → {url or '—'}" for name, url in now.items() if name in before and before[name] != url)
