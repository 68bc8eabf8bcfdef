"""The parse cache: a source's typed tables kept by what they are made of.

A refresh of a corpus in which one text changed parses that text only: every
other source's tables are read back from its entry. An entry's key is the
sha256 of the source file's name (the ``plans`` table records it), of the
source's bytes (its sha256: a binary document's too, whatever reader turns it
into text) and of the parser's fingerprint (``parser_fingerprint``: the code of
``kehoach/read``, ``kehoach/parse`` and ``kehoach/core``, the schemas and the
vocabularies). So a change of parser, schema or vocabulary changes every key,
and the old entries are pruned (``prune``) with those of texts that left the
corpus.

One file an entry (not one per table: 28 tables of 20,000 sources would be
560,000 files): each of the source's non-empty tables as an Arrow IPC stream,
one after another, then, for a document read from another format than text,
the text it was read as (UTF-8: the package ships it, and the build does not
read the document again where a Dask worker parsed it: a scan's OCR), then a
JSON index (table -> offset, length; the rendering's; the plan ids), its
length, and the sha256 of all that. An entry is written to a temporary
file renamed into place (a reader never sees half of one); one whose checksum,
index or schema does not match is removed and the source parsed again, never
used.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pyarrow as pa

from kehoach.core.files import atomic_write, digest_files
from kehoach.core.model import Tables, arrow_schema, resource_names
from kehoach.core.paths import PACKAGE_DIR, REFERENCE_DIR, SCHEMAS_DIR

ENTRY_SUFFIX = ".arrows"
# The sources a parse on a cluster is to parse (``ParseCache.write_work``); removed with the
# other stray files once the corpus is assembled (``prune``).
WORK_FILE = "parse-work.json"
# What a parse's output depends on: the readers, the parser and the core it types rows with.
PARSER_CODE_DIRS = ("read", "parse", "core")
_DIGEST = 32
_LENGTH = 8
T = TypeVar("T")


@functools.cache
def parser_fingerprint() -> str:
    """The sha256 of the parser's code, the schemas and the vocabularies (read once a process)."""
    files = [p for d in PARSER_CODE_DIRS for p in (PACKAGE_DIR / d).rglob("*")
             if p.is_file() and p.suffix in (".py", ".sql", ".csv", ".json")]
    files += [*SCHEMAS_DIR.glob("*.json"), *REFERENCE_DIR.glob("*.csv")]
    digest = hashlib.sha256()
    digest_files(digest, sorted(files), lambda path: f"{path.parent.name}/{path.name}")
    return digest.hexdigest()


def entry_key(path: str, sha256: str) -> str:
    """The key of a source's entry: its file's name, its bytes' sha256 and the parser's fingerprint."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return hashlib.sha256(f"{name}\0{sha256}\0{parser_fingerprint()}".encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """A source's tables as read back from the cache, with the plan ids it gave."""

    tables: Tables
    plan_ids: tuple[str, ...]


@dataclass(frozen=True)
class ParseCache:
    """The entries of one output's sources, in ``folder`` (created when first written)."""

    folder: Path

    def path(self, key: str) -> Path:
        return self.folder / f"{key}{ENTRY_SUFFIX}"

    def store(self, key: str, tables: Tables, plan_ids: tuple[str, ...], rendering: str | None = None) -> None:
        """Write a source's entry atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path(key), encode(tables, plan_ids, rendering))

    def load(self, key: str) -> Entry | None:
        """The entry of ``key``; None when there is none, or when it is corrupt (then it is removed)."""
        body = self._body(key)
        return None if body is None else self._checked(key, decode(body))

    def rendering(self, key: str) -> str | None:
        """The text a document of another format was read as, from the entry of ``key``; None for
        a plain text, or when there is no valid entry (a corrupt one is removed)."""
        body = self._body(key)
        if body is None:
            return None
        meta = self._checked(key, _meta(body))
        span = meta.get("rendering") if meta else None
        return None if span is None else bytes(body[span[0]:span[0] + span[1]]).decode("utf-8")

    def _body(self, key: str) -> memoryview | None:
        """The entry's bytes but its checksum, when they match it; a corrupt entry is removed."""
        try:
            data = self.path(key).read_bytes()
        except FileNotFoundError:
            return None
        if len(data) < _DIGEST + _LENGTH or hashlib.sha256(memoryview(data)[:-_DIGEST]).digest() != data[-_DIGEST:]:
            self.path(key).unlink(missing_ok=True)
            return None
        return memoryview(data)[:-_DIGEST]  # not a copy: the tables are read from the entry's bytes

    def _checked(self, key: str, read: T | None) -> T | None:
        """``read`` from the entry of ``key``; None when it was not valid (then the entry is removed)."""
        if read is None:
            self.path(key).unlink(missing_ok=True)
        return read

    def write_work(self, paths: list[str], hashes: list[str], keys: list[str]) -> Path:
        """The sources to parse (path, sha256, entry key), in a file of this folder: a parse on a
        cluster is given its name, not the lists (Prefect refuses a flow run whose parameters
        are over 512 KB: about 2,800 sources)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        work = {"paths": paths, "hashes": hashes, "keys": keys}
        atomic_write(self.folder / WORK_FILE, json.dumps(work, ensure_ascii=False).encode("utf-8"))
        return self.folder / WORK_FILE

    def prune(self, keys: set[str]) -> int:
        """Remove every file but the entries of ``keys`` (texts that left the corpus, an older
        parser's entries, a temporary file a killed writer left); how many were removed."""
        if not self.folder.is_dir():
            return 0
        removed = 0
        for path in self.folder.iterdir():
            if path.name.removesuffix(ENTRY_SUFFIX) not in keys or not path.name.endswith(ENTRY_SUFFIX):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed += 1
        return removed


def encode(tables: Tables, plan_ids: tuple[str, ...], rendering: str | None = None) -> bytes:
    """An entry's bytes: the non-empty tables' IPC streams, the rendering, the index, its length, the sha256."""
    chunks, index, offset = [], {}, 0
    for name, table in tables.items():
        if table.num_rows == 0:
            continue
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        stream = sink.getvalue().to_pybytes()
        index[name] = [offset, len(stream)]
        chunks.append(stream)
        offset += len(stream)
    meta: dict = {"tables": index, "plans": list(plan_ids)}
    if rendering is not None:
        text = rendering.encode("utf-8")
        meta["rendering"] = [offset, len(text)]
        chunks.append(text)
    meta = json.dumps(meta, ensure_ascii=False).encode()
    body = b"".join([*chunks, meta, len(meta).to_bytes(_LENGTH, "big")])
    return body + hashlib.sha256(body).digest()


def decode(body: memoryview) -> Entry | None:
    """An entry from its bytes (its checksum checked); None when they are not a valid entry of the current schemas."""
    meta = _meta(body)
    try:
        buffer = pa.py_buffer(body)
        tables = {name: _table(name, buffer, meta["tables"].get(name)) for name in resource_names()}
        return Entry(tables, tuple(meta["plans"]))
    except (ValueError, KeyError, TypeError, AttributeError, pa.ArrowException):
        return None


def _meta(body: memoryview) -> dict | None:
    """An entry's index (its checksum checked); None when it is not one."""
    size = int.from_bytes(body[-_LENGTH:], "big")
    try:
        meta = json.loads(bytes(body[len(body) - _LENGTH - size:-_LENGTH]))
    except ValueError:
        return None
    return meta if isinstance(meta, dict) else None


def _table(name: str, buffer: pa.Buffer, span: list[int] | None) -> pa.Table:
    schema = arrow_schema(name)
    if span is None:
        return schema.empty_table()
    table = pa.ipc.open_stream(buffer.slice(span[0], span[1])).read_all()
    if not table.schema.equals(schema):
        raise ValueError(f"entry's {name} table is not of the current schema")
    return table


def read_work(path: str | Path) -> tuple[list[str], list[str], list[str]]:
    """(paths, sha256s, entry keys) as ``ParseCache.write_work`` wrote them."""
    work = json.loads(Path(path).read_text(encoding="utf-8"))
    return work["paths"], work["hashes"], work["keys"]


def folder_for(root: Path, out: Path) -> Path:
    """An output's own folder in a cache shared by several outputs (``KEHOACH_PARSE_CACHE``)."""
    return root / hashlib.sha256(os.fsencode(out.resolve())).hexdigest()[:16]
