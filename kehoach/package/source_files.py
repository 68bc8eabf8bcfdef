"""The plan texts shipped in the package: ``source/<file>.txt`` and its ``.origin.json``.

A plan read from another format (a Word document, a web page) is shipped as
issued (``source/<file>.docx``) and as the text it was read as
(``source/<file>.docx.txt``, the canonical rendering): its rows' ``source_line``
are lines of that text.

Vietnamese administrative documents are not protected by copyright (Law on
Intellectual Property, Art. 15), so the package carries the exact bytes that
were read, and ``sources[].path`` in the descriptor points at them: every
``source_line`` of every table can be checked against the text itself.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Callable
from pathlib import Path

from kehoach.core.errors import KehoachError
from kehoach.core.files import link_or_copy
from kehoach.core.vocabularies import vocabulary
from kehoach.package.layout import SOURCE_DIR, RecordedFiles, rendering_path
from kehoach.package.writer import file_resource, integrity_of
from kehoach.read.source_urls import origin_bytes
from kehoach.read.sources import SourceRecord, origin_path, read_origin, rendering_of

# A source format's entry in reference/file_formats.csv (plain texts are 'txt').
_FORMATS = {r["format"]: r for r in vocabulary("file_formats") if r["format"] in ("docx", "odt", "html", "md", "pdf")}
NOT_RECORDED = ("trang công bố chưa được ghi lại", "the page it was published on was not recorded")


def stage_sources(sources: list[SourceRecord], directory: Path,
                  rendered: Callable[[SourceRecord], str | None] = lambda source: None,
                  in_place: Path | None = None) -> list[dict]:
    """Copy each source text (and its origin sidecar) into ``source/``; their file resources.
    ``rendered``: the text a document was read as when the parse kept it (the parse cache's entry,
    written where it was parsed: a Dask worker), so that it is not read again. A text the package in
    ``in_place`` ships with the same sha256 is linked from there (``RecordedFiles``: not read again)."""
    target = directory / SOURCE_DIR
    target.mkdir(parents=True, exist_ok=True)
    recorded = RecordedFiles(in_place) if in_place is not None else None
    resources: list[dict] = []
    for source in sources:
        path = Path(source.path)
        if (target / path.name).exists():
            raise KehoachError(f"two sources are named {path.name!r}: rename one", path)
        data = _shipped(source, target / path.name, recorded)
        stem = path.stem
        resources.append(_original(directory, source, path))
        rendering = None  # a plain text is its own text
        if source.format != "text":
            rendering = rendered(source) or rendering_of(source, (target / path.name).read_bytes() if data is None
                                                         else data)
        if rendering is not None:
            text = rendering.encode("utf-8")
            (directory / rendering_path(path.name)).write_bytes(text)
            resources.append(file_resource(
                directory, rendering_path(path.name), f"source-{_name(stem)}-text", integrity=integrity_of(text),
                format="txt", mediatype="text/plain", encoding="utf-8",
                title=f"The text read from {path.name} (source_line refers to its lines)",
                title_vi=f"Văn bản đọc được từ {path.name} (source_line là số dòng của văn bản này)"))
        sidecar = origin_path(path)
        if source.origin_sha256 is not None:
            record = _origin_record(source, sidecar)
            (target / sidecar.name).write_bytes(record)
            resources.append(file_resource(
                directory, f"{SOURCE_DIR}/{sidecar.name}", f"source-{_name(stem)}-origin",
                integrity=integrity_of(record), format="json", mediatype="application/json",
                title=f"Where the source text {path.name} came from",
                title_vi=f"Nguồn gốc văn bản {path.name}"))
    return resources


def _shipped(source: SourceRecord, shipped: Path, recorded: RecordedFiles | None) -> bytes | None:
    """Put the text of ``source`` at ``shipped``: linked from the package in place when that ships it with
    the same sha256 (None returned: not read), else copied from the source, its bytes returned."""
    relpath = f"{SOURCE_DIR}/{shipped.name}"
    if recorded is not None and recorded.holds_hash(relpath, f"sha256:{source.sha256}"):
        link_or_copy(recorded.out / relpath, shipped)
        return None
    data = Path(source.path).read_bytes()
    if hashlib.sha256(data).hexdigest() != source.sha256:
        raise KehoachError("the file changed while the package was being built: build again", source.path)
    shipped.write_bytes(data)
    return data


def _original(directory: Path, source: SourceRecord, path: Path) -> dict:
    """The file resource of the source as read (a text, or a document as issued): its sha256 and size
    are the source's, checked when it was shipped."""
    kind = _FORMATS.get(source.format)
    meta = ({"format": "txt", "mediatype": "text/plain", "encoding": source.encoding} if kind is None
            else {"format": kind["format"], "mediatype": kind["media_type"]})
    return file_resource(directory, f"{SOURCE_DIR}/{path.name}", f"source-{_name(path.stem)}",
                         integrity={"hash": f"sha256:{source.sha256}", "bytes": source.size}, **meta,
                         title=f"Source text: {source.origin.get('title_en') or path.name}",
                         title_vi=f"Văn bản gốc: {source.origin.get('title') or path.name}")
def _origin_record(source: SourceRecord, sidecar: Path) -> bytes:
    """The origin record as the build read it: the file beside the text, or the record with the
    address the build was given in place of the file's (``kehoach.read.source_urls.with_url``)."""
    data = sidecar.read_bytes() if sidecar.is_file() else None
    if data is not None and hashlib.sha256(data).hexdigest() == source.origin_sha256:
        return data
    return origin_bytes(source.origin)


def published_at(directory: Path, source_file: str) -> tuple[str, str]:
    """Where a shipped source text was published, from its origin record: (the page's URL, '') when
    it was recorded, else ('', why not: the record's ``url_note``, or that it was not recorded)."""
    origin = read_origin(directory / SOURCE_DIR / source_file) if source_file else {}
    url = str(origin.get("url") or "")
    return (url, "") if url else ("", str(origin.get("url_note") or f"{NOT_RECORDED[0]} / {NOT_RECORDED[1]}"))


def _name(stem: str) -> str:
    """A Frictionless resource name (lower-case letters, digits, '-', '_', '.')."""
    out = "".join(c if c in string.ascii_lowercase + string.digits + "-_." else "-" for c in stem.lower())
    return out.strip("-") or "text"
