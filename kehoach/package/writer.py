"""Writing the data package: CSV + Parquet per resource and datapackage.json.

The package is assembled in a staging directory next to the output; it is
validated there (``kehoach.package.validate``) and only then swapped in, so a failed
run leaves the previous package untouched.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kehoach import __version__
from kehoach.audit.runner import summary as audit_summary
from kehoach.core.files import link_or_copy, sha256_file
from kehoach.core.model import (
    Tables,
    load_schema,
    package_descriptor,
    record_batches,
    resource_meta,
    resource_names,
)
from kehoach.core.text import fold, slug
from kehoach.package.constraints import RowScope
from kehoach.package.csv_file import Reading, Reused, Span, as_in_place, read_spans, write_csv, write_spans
from kehoach.package.layout import (
    DATA_DIR,
    DESCRIPTOR,
    PARQUET_SUFFIX,
    SOURCE_DIR,
    RecordedFiles,
    csv_path,
    csv_spans_path,
    rendering_path,
)
from kehoach.package.plan_rows import ROW_GROUP_ROWS, of_plans, read_plans
from kehoach.read.sources import SourceRecord

# Said wherever amounts are described: what a plan states is an estimate of the money needed.
ESTIMATES_VI = ("Số tiền là khái toán (ước tính nhu cầu kinh phí) mà kế hoạch nêu, không phải dự toán được giao "
                "hay số đã cấp.")
ESTIMATES_EN = ("Amounts are the plan's estimates (\"khái toán\") of the money needed, not allocated budgets or "
                "disbursements.")
SCHEMA_V2 = "https://datapackage.org/profiles/2.0/datapackage.json"
# A corpus title names its first plans only (a national corpus has thousands).
TITLE_NUMBERS = 10


@dataclass(frozen=True)
class PackageInfo:
    name: str
    title_vi: str
    title_en: str
    description_vi: str
    description_en: str
    version: str
    created: str


def write_parquet(batches: pa.RecordBatchReader, path: Path) -> None:
    """A Parquet file of the rows of ``batches``, read a batch at a time, in row groups of ``ROW_GROUP_ROWS``
    rows (a refresh reads a plan's rows by their groups: ``plan_rows``), each written as one chunk: the file's
    bytes depend on its rows, not on how they came in batches (a refresh's and a rebuild's are the same)."""
    schema = _with_pandas_metadata(batches.schema)
    with pq.ParquetWriter(path, schema, compression="zstd", write_statistics=True) as parquet:
        written = False
        for group in _row_groups(batches):
            parquet.write_table(group, row_group_size=ROW_GROUP_ROWS)
            written = True
        if not written:
            parquet.write_table(schema.empty_table())  # an empty row group, as for an empty table


def _row_groups(batches: pa.RecordBatchReader) -> Iterator[pa.Table]:
    """The rows of ``batches`` in tables of ``ROW_GROUP_ROWS`` rows (the last: those left), each one chunk."""
    parts: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        at = 0
        while at < batch.num_rows:
            part = batch.slice(at, min(ROW_GROUP_ROWS - rows, batch.num_rows - at))
            parts.append(part)
            at, rows = at + part.num_rows, rows + part.num_rows
            if rows == ROW_GROUP_ROWS:
                yield pa.Table.from_batches(parts, batches.schema).combine_chunks()
                parts, rows = [], 0
    if rows:
        yield pa.Table.from_batches(parts, batches.schema).combine_chunks()


def _with_pandas_metadata(schema: pa.Schema) -> pa.Schema:
    """Tell pandas readers (Frictionless among them) that integer columns are
    nullable ('Int64'), so a missing value does not turn 9 into 9.0."""
    return schema.with_metadata(_pandas_metadata(schema.serialize().to_pybytes()))


@cache  # the metadata depends on the schema only (a round trip through pandas: ms a table, a build writes dozens)
def _pandas_metadata(schema_bytes: bytes) -> dict[bytes, bytes]:
    schema = pa.ipc.read_schema(pa.py_buffer(schema_bytes))
    nullable = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int32Dtype()}
    frame = schema.empty_table().to_pandas(types_mapper=nullable.get)
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False).schema.metadata


def write_tables(tables: Tables, directory: Path, in_place: Path | None = None,
                 scope: RowScope | None = None) -> list[dict]:
    """Write every resource as CSV and Parquet; returns resource descriptors. Of the tables of ``scope``,
    the CSV rows of the plans outside it are copied from the package in ``in_place`` (``csv_file.Reused``)."""
    data = directory / DATA_DIR
    data.mkdir(parents=True, exist_ok=True)
    resources: list[dict] = []
    spans_in_place = read_spans(csv_spans_path(in_place)) if in_place is not None and scope is not None else {}
    recorded = RecordedFiles(in_place) if spans_in_place and in_place is not None else None
    spans: dict[str, list[Span]] = {}
    # each table's Parquet file is written in a thread while its CSV file is: Arrow's encoder does not hold
    # the GIL, and the CSV writer needs it. Both read the table a record batch at a time (a corpus's: each
    # batch mapped on its own, kehoach.parse.corpus_tables), one table at a time (the pool's exit waits)
    with ThreadPoolExecutor(1, thread_name_prefix="kehoach-parquet") as pool:
        for name in resource_names():
            read = partial(record_batches, tables, name)
            csv_file, parquet_file = data / f"{name}.csv", data / f"{name}.parquet"
            reused = _reused(name, in_place, spans_in_place, scope, recorded)
            same = as_in_place(read, reused) if reused is not None else None
            parquet = pool.submit(_write_twin, read, parquet_file, reused if same is not None else None, recorded)
            spans[name], csv_integrity = _write_csv(read, csv_file, reused, recorded, same)
            resources += _table_resources(name, tables[name].num_rows, csv_integrity, parquet.result())
    write_spans(csv_spans_path(directory), spans)
    return resources


def _write_csv(read: Reading, path: Path, reused: Reused | None, recorded: RecordedFiles | None,
               same: list[Span] | None) -> tuple[list[Span], dict]:
    """A table's CSV file, its spans and integrity: the file in place linked when it holds the very bytes
    (``same``: ``csv_file.as_in_place``; its recorded hash, nothing read again), else written, hashed as
    written."""
    if same is not None and reused is not None and recorded is not None:
        link_or_copy(reused.path, path)
        return same, {"hash": recorded.hashes[f"{DATA_DIR}/{path.name}"], "bytes": path.stat().st_size}
    digest = hashlib.sha256()  # of the bytes as written: the file is not read again for its hash
    spans = write_csv(read, path, reused, digest)
    return spans, {"hash": f"sha256:{digest.hexdigest()}", "bytes": path.stat().st_size}


def _write_twin(read: Reading, path: Path, linked_beside: Reused | None, recorded: RecordedFiles | None) -> str:
    """The table's Parquet file, and its hash: beside a CSV file linked from the package in place
    (``linked_beside``), the Parquet file in place is linked too when it holds the same rows
    (``_same_parquet``), else it is written."""
    relpath = f"{DATA_DIR}/{path.name}"
    if linked_beside is not None and recorded is not None and _same_parquet(read, relpath, linked_beside, recorded):
        link_or_copy(recorded.out / relpath, path)
        return recorded.hashes[relpath]
    write_parquet(read(), path)
    return _integrity(path)["hash"]


def _same_parquet(read: Reading, relpath: str, reused: Reused, recorded: RecordedFiles) -> bool:
    """Whether the Parquet file ``relpath`` in place holds the table ``read`` gives: its CSV twin is the very
    bytes of that table's (the same plans' runs of rows), the other plans' rows are the entries' rows it was written
    from, and the changed plans' rows must be equal as Arrow values (a null and an empty text are one
    CSV cell)."""
    if not recorded.holds(relpath):
        return False
    in_order = sorted(reused.spans.values(), key=lambda s: s.start)  # the CSV twin's runs: the file's too
    before = read_plans(recorded.out / relpath, reused.changed, [(s.plan_id, s.rows) for s in in_order])
    # the schema too (its metadata aside: pandas' is the writer's), then every value
    return before.equals(of_plans(read(), reused.changed))


def _table_resources(name: str, rows: int, csv_integrity: dict, parquet_hash: str) -> list[dict]:
    """The descriptors of a table's CSV file and its Parquet twin."""
    meta = resource_meta(name)
    schema = load_schema(name)
    common = {
        "title": meta["title"],
        "title_vi": meta["title_vi"],
        "description": meta["description"],
        "description_vi": meta["description_vi"],
        "rows": rows,
        # computed by kehoach (audit, changelog) rather than read from the document
        **({"derived": True} if meta.get("derived") else {}),
    }
    return [
        {"name": name, "path": f"{DATA_DIR}/{name}.csv", "format": "csv", "mediatype": "text/csv",
         "encoding": "utf-8", **common, "schema": schema, **csv_integrity},
        {"name": f"{name}{PARQUET_SUFFIX}", "path": f"{DATA_DIR}/{name}.parquet", "format": "parquet",
         "mediatype": "application/vnd.apache.parquet", **common,
         "schema": _parquet_schema(schema),
         # Frictionless 5 reads Parquet through pyarrow, not as a byte stream, so it
         # cannot count bytes and would report a declared 'bytes' as wrong ("actual is
         # None"); the hash is recorded (and checked by publish, with the size).
         "hash": parquet_hash},
    ]


def _reused(name: str, in_place: Path | None, spans: dict[str, dict[str, Span]],
            scope: RowScope | None, recorded: RecordedFiles | None) -> Reused | None:
    """The rows of ``name`` the CSV file in place gives: those of the plans outside ``scope``, in a table of
    it, when that file is the one its package's descriptor records (a file changed by hand is never copied)."""
    if in_place is None or recorded is None or scope is None or name not in scope.tables or name not in spans:
        return None
    if not recorded.holds(csv_path(name)):
        return None
    return Reused(in_place / csv_path(name), spans[name], scope.plans)


def file_resource(directory: Path, relpath: str, name: str, *, integrity: dict | None = None, **meta: Any) -> dict:
    """Descriptor of a non-tabular file (DuckDB database, README) with its hash: the ``integrity`` the caller
    knows (``integrity_of`` the bytes it has just written: not read back), else the file's."""
    return {"name": name, "path": relpath, "type": "file", **meta,
            **(_integrity(directory / relpath) if integrity is None else integrity)}


def _integrity(path: Path) -> dict:
    return {"hash": f"sha256:{sha256_file(path)}", "bytes": path.stat().st_size}


def integrity_of(data: bytes) -> dict:
    """The hash and size a descriptor records of a file holding ``data``."""
    return {"hash": f"sha256:{hashlib.sha256(data).hexdigest()}", "bytes": len(data)}


def _parquet_schema(schema: dict) -> dict:
    """Parquet twins reference each other, so foreign keys point at '-parquet' resources."""
    twin = json.loads(json.dumps(schema))
    for fk in twin.get("foreignKeys", []):
        fk["reference"]["resource"] = fk["reference"]["resource"] + PARQUET_SUFFIX
    return twin


def package_info(tables: Tables, sources: list[SourceRecord], version: str, created: str,
                 change: tuple[str, str] | None = None) -> PackageInfo:
    """Names, titles and descriptions (vi, en); the description ends with the
    audit summary and, given ``change`` (vi, en), the summary of this version's change."""
    plans = tables["plans"].to_pylist()
    origins = {s.sha256: s.origin for s in sources}
    if len(plans) == 1:
        plan = plans[0]
        name = f"{package_descriptor()['name_prefix']}-{plan['plan_id']}"
        title_en = origins.get(plan["source_sha256"], {}).get("title_en") or (
            f"{plan['doc_type_en'] or 'Plan'} {plan['number']} of "
            + (f"{fold(plan['province'])} province" if plan["province"] else fold(plan["issuer"])))
        title_vi = f"{plan['title']} ({plan['number']}, {plan['issued_date']:%d/%m/%Y})"
        title_en = f"{title_en} ({plan['number']}, {plan['issued_date']:%Y-%m-%d})"
    else:
        provinces = sorted({p["province"] or p["issuer"] for p in plans})
        scope = provinces[0] if len(provinces) == 1 else "nhiều tỉnh"
        # a stable name: the corpus stays one dataset as plans are added
        name = f"{package_descriptor()['name_prefix']}-{slug(scope)}-plans"
        numbers = ", ".join(p["number"] for p in plans[:TITLE_NUMBERS]) + ("…" if len(plans) > TITLE_NUMBERS else "")
        title_vi = f"{len(plans)} kế hoạch, {scope}: {numbers}"
        title_en = f"{len(plans)} plans, {fold(scope)}: {numbers}"
    counts = {n: tables[n].num_rows for n in ("tasks", "budget_items", "budget_lines", "investments")}
    description_vi = (
        f"Dữ liệu mở trích xuất từ văn bản: {counts['tasks']} nhiệm vụ, {counts['budget_items']} nhiệm vụ có "
        f"dự toán kinh phí ({counts['budget_lines']} dòng kinh phí, triệu đồng), {counts['investments']} hạng mục "
        "đầu tư phát triển, cơ quan chủ trì và văn bản liên quan. Mọi dòng ghi số dòng trong văn bản gốc. "
        f"{ESTIMATES_VI}"
    )
    description_en = (
        f"Open data extracted from the plan text: {counts['tasks']} tasks, {counts['budget_items']} budgeted "
        f"tasks ({counts['budget_lines']} budget lines, million VND), {counts['investments']} development-"
        "investment items, lead agencies and related documents. Every row records its line in the source text. "
        f"{ESTIMATES_EN}"
    )
    for paragraph in (audit_summary(tables), change):
        if paragraph:
            description_vi, description_en = (f"{description_vi}\n\n{paragraph[0]}",
                                              f"{description_en}\n\n{paragraph[1]}")
    return PackageInfo(name, title_vi, title_en, description_vi, description_en, version, created)


def descriptor(info: PackageInfo, sources: list[SourceRecord], resources: list[dict],
               extra: dict | None = None) -> dict:
    base = package_descriptor()
    return {
        "$schema": SCHEMA_V2,
        "name": info.name,
        "title": f"{info.title_vi} — {info.title_en}",
        "title_vi": info.title_vi,
        "title_en": info.title_en,
        "description": f"{info.description_vi}\n\n{info.description_en}",
        "description_vi": info.description_vi,
        "description_en": info.description_en,
        "version": info.version,
        "created": info.created,
        "licenses": base["licenses"],
        "licence_note_vi": base["licence_note_vi"],
        "licence_note_en": base["licence_note_en"],
        "keywords": base["keywords"],
        "themes": base["themes"],
        "language": base["language"],
        "sources": [_source_entry(s) for s in sources],
        "generator": f"kehoach {__version__}",
        **(extra or {}),
        "resources": resources,
    }


def _source_entry(source: SourceRecord) -> dict:
    origin = source.origin
    entry = {
        "title": origin.get("title") or Path(source.path).name,
        "path": f"{SOURCE_DIR}/{Path(source.path).name}",
        "hash": f"sha256:{source.sha256}",
        "bytes": source.size,
    }
    if source.format != "text":  # read from a document as issued: the text it was read as
        entry.update(format=source.format, text_path=rendering_path(Path(source.path).name))
    for k in ("title_en", "number", "issuer", "issued_date", "publisher", "url", "url_note", "retrieved", "licence"):
        if origin.get(k):
            entry[k] = origin[k]
    return entry


def write_descriptor(directory: Path, desc: dict) -> None:
    text = json.dumps(desc, ensure_ascii=False, indent=2, default=str) + "\n"
    (directory / DESCRIPTOR).write_text(text, encoding="utf-8")


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
