"""The CKAN DataStore: each table of the package as a typed, documented, previewable table.

For every CSV resource (a table) the publisher (``kehoach.publish.ckan``) asks
``DatastoreSync.needs_push``: the resource records, in its extra
``datastore_sha256``, the hash of what was pushed (the CSV's sha256, the
DataStore fields with their data dictionary, the primary key). When it still
matches, nothing is written or even read, so an unchanged package costs no
DataStore call. Otherwise the table's rows are replaced whole:

1. when only the rows changed (the resource's ``datastore_fields_sha256``, the
   hash of the fields, their dictionary and the key, is the one pushed now, and
   its table is active): ``datastore_delete`` with empty ``filters`` (every row;
   the table, its dictionary and its view stay), then ``datastore_upsert``
   (method ``insert``) a batch at a time. Dropping the table instead makes CKAN
   update the resource, a whole package update, twice (``datastore_active``
   off, then on): the corpus's 26 tables pushed again after a plan left it took
   twice as long;
2. otherwise the table is made again. CKAN 2.12's ``datastore_create`` and
   ``datastore_delete`` (of a table) each set the resource's ``datastore_active``
   by a ``resource_patch`` when it differs: a whole package update, validating
   and indexing every resource of the dataset (the 120 tables of a corpus of
   three plans and its plan datasets: 1.15 s a call on a busy machine, 69 % of
   the time of all their CKAN calls; 0.33 s without). So, for all the tables to
   be made at once (``DatastoreSync.prepare``): ``datastore_active`` off in one
   ``package_revise`` (those that have it), ``datastore_delete`` of each old
   table (none yet is fine; none on a resource this run created), then
   ``datastore_active`` on in one ``package_revise``; then, table by table,
   ``datastore_create`` with the fields typed from the Table Schema (``text``,
   ``numeric`` for exact money, ``int8``, ``date``, ``timestamp``, ``bool``),
   the primary key, ``info`` = {label, notes} from the schema's bilingual
   titles and descriptions (CKAN's data dictionary), and the first batch of
   rows, then ``datastore_upsert`` (method ``upsert``, on the primary key) for
   the other batches: running a batch twice leaves the same rows. A run
   stopped between the flag and the table leaves a resource that says
   ``datastore_active`` without its hashes: the next run drops and makes it,
3. a ``datatables_view`` on the resource of a table made when it has no table
   view yet (a resource this run created has none: its views are not listed);
   a table whose rows only were replaced has the view made with it,
4. once every table is pushed, ``datastore_sha256`` and ``datastore_fields_sha256``
   of all of them in one ``package_revise`` (``DatastoreSync.record``; one
   ``resource_patch`` each cost 0.6 s, a whole package update in CKAN): a run
   stopped before it pushes those tables again next time.

Rows are the CSV's text exactly (an empty cell is NULL); PostgreSQL casts them
to the column types, so the DataStore holds what the CSV says, typed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Set
from pathlib import Path

from kehoach.publish.ckan_client import ApiError, CkanClient
from kehoach.publish.report import PublishReport
from kehoach.publish.snapshot import PackageFile, Snapshot

log = logging.getLogger(__name__)

HASH_KEY = "datastore_sha256"
FIELDS_KEY = "datastore_fields_sha256"
VIEW_TYPE = "datatables_view"
BATCH_ROWS = 500
# Bump when the way tables are pushed changes: every table is pushed again.
FORMAT = 1
TYPES = {"string": "text", "number": "numeric", "integer": "int8", "date": "date", "datetime": "timestamp",
         "boolean": "bool", "year": "int4"}


def datastore_tables(snap: Snapshot) -> list[PackageFile]:
    """The files that become DataStore tables: the CSV of every table."""
    return [f for f in snap.files if f.role == "table" and f.format == "csv" and f.schema]


def _label(spec: dict) -> str:
    return " / ".join(t for t in (spec.get("title_vi"), spec.get("title")) if t) or spec["name"]


def _notes(spec: dict) -> str:
    return "\n\n".join(t for t in (spec.get("description_vi"), spec.get("description")) if t)


def datastore_fields(schema: dict) -> list[dict]:
    """DataStore fields from a Table Schema: types, and the data dictionary in ``info``."""
    return [{"id": f["name"], "type": TYPES.get(f.get("type", "string"), "text"),
             "info": {"label": _label(f), "notes": _notes(f)}} for f in schema["fields"]]


def primary_key(schema: dict) -> list[str]:
    pk = schema.get("primaryKey") or []
    return [pk] if isinstance(pk, str) else list(pk)


def _digest(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def datastore_sha256(f: PackageFile) -> str:
    """What a pushed table is: the file, its fields and dictionary, its key, and how it was pushed."""
    return _digest({"format": FORMAT, "file": f.sha256, "fields": datastore_fields(f.schema or {}),
                    "primary_key": primary_key(f.schema or {})})


def fields_sha256(f: PackageFile) -> str:
    """What a pushed table's columns are: its fields and dictionary, its key, and how it was pushed."""
    return _digest({"format": FORMAT, "fields": datastore_fields(f.schema or {}),
                    "primary_key": primary_key(f.schema or {})})


def batches(path: Path, size: int = BATCH_ROWS) -> Iterator[list[dict]]:
    """The CSV's rows as DataStore records (text as written, empty cell = NULL), ``size`` at a time."""
    with path.open(encoding="utf-8", newline="") as handle:
        batch: list[dict] = []
        for row in csv.DictReader(handle):
            batch.append({k: (v if v != "" else None) for k, v in row.items()})
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch


def _active(resource: dict) -> bool:
    """Has the resource a DataStore table (CKAN's flag, a boolean or its text)?"""
    return resource.get("datastore_active") in (True, "true", "True")


class DatastoreSync:
    """Pushes tables to the DataStore through the publisher's client and its view of the resources."""

    def __init__(self, client: CkanClient, snap: Snapshot, resource: Callable[[PackageFile], dict | None],
                 remember: Callable[[dict], None], batch_rows: int = BATCH_ROWS, new: Set[str] = frozenset()):
        self.client = client
        self.batch_rows = batch_rows
        self.snap = snap
        self.resource = resource  # the CKAN resource standing for a file (from the publisher's cache)
        self.remember = remember  # tell the publisher's cache about a resource we patched
        self.new = set(new)  # resources created by this run: no table nor view behind them yet
        self.tableless = set(new)  # resources with no table now: new, or dropped by ``prepare``
        self.pushed: dict[str, tuple[str, dict]] = {}  # resource id -> (its dataset's id, the hashes to record)
        self._available: bool | None = None

    def needs_push(self, f: PackageFile) -> bool:
        current = self.resource(f)
        return current is not None and not (_active(current) and current.get(HASH_KEY) == datastore_sha256(f))

    def remade(self, f: PackageFile, current: dict) -> bool:
        """Is the table made (again), not only its rows replaced?"""
        return (current["id"] in self.tableless or not _active(current)
                or current.get(FIELDS_KEY) != fields_sha256(f))

    def planned(self, pkg: dict | None) -> list[str]:
        """The tables a publish would push (a dry run): all of them to a new dataset."""
        return [f.key for f in datastore_tables(self.snap)
                if pkg is None or self.resource(f) is None or self.needs_push(f)]

    def available(self) -> bool:
        """Does the portal run the DataStore? Asked once, and only when a table needs pushing."""
        if self._available is None:
            status = self.client.read("status_show") or {}
            self._available = "datastore" in (status.get("extensions") or [])
            if not self._available:
                log.warning("CKAN at %s does not run the DataStore plugin: tables get no preview or data "
                            "dictionary there", self.client.url)
        return self._available

    def prepare(self, tables: list[PackageFile]) -> Callable[[], None]:
        """For the publisher's retry loop: the tables to be made, old ones dropped and every resource
        flagged ``datastore_active`` in one ``package_revise`` a dataset, so that neither
        ``datastore_delete`` nor ``datastore_create`` updates the whole package for each."""

        def run() -> None:
            pending = [f for f in tables if self.needs_push(f)]
            if not pending or not self.available():
                return
            made = [current for f in pending if (current := self.resource(f)) and self.remade(f, current)]
            self._flag([r for r in made if r["id"] not in self.tableless and _active(r)], False)
            for r in made:
                if r["id"] not in self.tableless:
                    self._delete(r["id"])
                    self.tableless.add(r["id"])
            self._flag(made, True)

        return run

    def attempt(self, f: PackageFile) -> Callable[[], int | None]:
        """One table's push, for the publisher's retry loop: rows pushed, or None when nothing was to do."""

        def run() -> int | None:
            if not self.needs_push(f) or not self.available():
                return None
            return self.push(f, self.resource(f))

        return run

    def push(self, f: PackageFile, current: dict) -> int:
        rid = current["id"]
        fresh, tableless = rid in self.new, rid in self.tableless
        self.new.discard(rid)  # an attempt again may find the table and view this one made
        self.tableless.discard(rid)
        if self.remade(f, current) or tableless:
            log.info("CKAN: pushing table %s to the DataStore", f.key)
            rows = self._make_table(rid, f, drop=not tableless)
            self._ensure_view(rid, fresh)
        else:  # its view was made with the table, before its fields' hash was recorded
            log.info("CKAN: replacing the rows of table %s in the DataStore", f.key)
            rows = self._replace_rows(rid, f)
        self.pushed[rid] = (current["package_id"], {HASH_KEY: datastore_sha256(f), FIELDS_KEY: fields_sha256(f)})
        return rows

    def _replace_rows(self, rid: str, f: PackageFile) -> int:
        """Every row deleted, the table kept (empty ``filters``), then the file's rows inserted."""
        self.client.write("datastore_delete", {"resource_id": rid, "force": True, "filters": {}})
        rows = 0
        for batch in batches(self.snap.local(f), self.batch_rows):
            self._upsert(rid, "insert", batch)
            rows += len(batch)
        return rows

    def _make_table(self, rid: str, f: PackageFile, drop: bool) -> int:
        if drop:
            self._delete(rid)
        schema = f.schema or {}
        rows, first = 0, True
        for batch in batches(self.snap.local(f), self.batch_rows):
            if first:
                self._create(rid, schema, batch)
                first = False
            else:
                self._upsert(rid, "upsert", batch)
            rows += len(batch)
        if first:
            self._create(rid, schema, [])
        return rows

    def _upsert(self, rid: str, method: str, records: list[dict]) -> None:
        self.client.write("datastore_upsert", {"resource_id": rid, "force": True, "method": method,
                                               "records": records})

    def record(self) -> None:
        """Write what was pushed into the resources (``datastore_sha256``, ``datastore_fields_sha256``), every
        table of a dataset in one ``package_revise`` (by resource id)."""
        self._revise({rid: hashes for rid, (_, hashes) in self.pushed.items()},
                     {rid: package_id for rid, (package_id, _) in self.pushed.items()})
        self.pushed = {}

    def _flag(self, resources: list[dict], active: bool) -> None:
        """``datastore_active`` set on ``resources``: one ``package_revise`` a dataset."""
        self._revise({r["id"]: {"datastore_active": active} for r in resources},
                     {r["id"]: r["package_id"] for r in resources})

    def _revise(self, changes: dict[str, dict], package_of: dict[str, str]) -> None:
        """``changes`` (resource id -> fields) merged into the resources, one ``package_revise`` a dataset."""
        for package_id in dict.fromkeys(package_of[rid] for rid in changes):
            updates = {f"update__resources__{rid}": fields for rid, fields in changes.items()
                       if package_of[rid] == package_id}
            result = self.client.write("package_revise", {"match": {"id": package_id}, **updates})
            for resource in result["package"]["resources"]:
                self.remember(resource)

    def _delete(self, rid: str) -> None:
        try:
            self.client.write("datastore_delete", {"resource_id": rid, "force": True})
        except ApiError as exc:
            if exc.status != 404:  # no table yet
                raise

    def _create(self, rid: str, schema: dict, records: list[dict]) -> None:
        data = {"resource_id": rid, "force": True, "fields": datastore_fields(schema), "records": records}
        if primary_key(schema):
            data["primary_key"] = primary_key(schema)
        self.client.write("datastore_create", data)

    def _ensure_view(self, rid: str, fresh: bool) -> None:
        views = [] if fresh else self.client.read("resource_view_list", {"id": rid}) or []
        if not any(v.get("view_type") == VIEW_TYPE for v in views):
            self.client.write("resource_view_create", {"resource_id": rid, "view_type": VIEW_TYPE,
                                                       "title": "Bảng / Table"})


def push_tables(sync: DatastoreSync, step: Callable[[str, Callable[[], int | None]], int | None],
                report: PublishReport) -> None:
    """Prepare the tables to be made, then push every table that needs it, each through ``step`` (the
    publisher's retry loop, told what is written); record them."""
    tables = datastore_tables(sync.snap)
    step("the DataStore tables", sync.prepare(tables))
    for f in tables:
        rows = step(f"the DataStore table of {f.key!r}", sync.attempt(f))
        if rows is not None:
            report.datastore.append(f.key)
            report.datastore_rows += rows
