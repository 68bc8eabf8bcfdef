"""The audit of a refresh: the rules run again on the plans that changed, the others' findings kept.

A rule declared ``-- scope: plan`` (``kehoach/audit/rules/README.md``) finds in a plan what that plan's
rows say, with tables no plan owns (agencies, documents) at most: its findings of a plan whose rows are
those the package in place was audited on are that package's findings of it. A refresh runs such a rule
on the changed plans' rows alone and keeps its other findings from the package in place (1,000 plans,
one amended: the audit's 2 s were every rule over every plan); a rule declared ``-- scope: corpus`` runs
on every plan. The findings and the rules' counts are a full audit's, row for row (a test compares).

The package in place's findings are taken only when they are provably those the rules give now: its
state records this audit (``rules_fingerprint``: the rules, the views and this code; the parser's is
``changed_plans``'), its ``findings`` file is the one its descriptor records, and each table a rule reads
that is not made of the plans' parse cache entries alone (``plans``, linked across the corpus; the
code lists the plans share) holds the same rows for the unchanged plans as the package in place.
Otherwise the rule runs on every plan; with no package, or another audit's, the whole audit does.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kehoach.core.files import digest_files
from kehoach.core.model import Tables, arrow_schema, primary_key, resource_meta, resource_names
from kehoach.core.paths import AUDIT_DIR
from kehoach.package.layout import RecordedFiles, current_descriptor, parquet_path
from kehoach.versions import versioning
from kehoach.versions.incremental import changed_plans, entry_tables

# What a rule declares in its header (``-- scope: …``): its findings of a plan depend on that plan's
# rows alone ('plan'), or on other plans' too ('corpus', what a rule that says nothing is taken for).
SCOPES = ("plan", "corpus")
# The key of the package's state that records the audit its findings were made by.
STATE_KEY = "audit_fingerprint"


@functools.cache
def rules_fingerprint() -> str:
    """The sha256 of the audit's code, views and rules (read once a process)."""
    digest = hashlib.sha256()
    digest_files(digest, sorted(p for p in AUDIT_DIR.rglob("*") if p.is_file() and p.suffix in (".py", ".sql")),
                 lambda path: path.relative_to(AUDIT_DIR).as_posix())
    return digest.hexdigest()


@dataclass(frozen=True)
class PreviousAudit:
    """What a refresh's audit takes from the package in place: the rules (``local``) run on the rows of
    ``plans`` alone, and those rules' ``findings`` of every other plan."""

    plans: frozenset[str]
    local: frozenset[str]
    findings: pa.Table

    def narrowed(self, tables: Tables) -> Tables:
        """``tables`` with only the rows of ``plans`` in each table a plan owns (a code list stays whole)."""
        kept = pa.array(sorted(self.plans), pa.string())
        return {name: _of_plans(table, kept) for name, table in tables.items()}


def _of_plans(table: pa.Table, plans: pa.Array, keep: bool = True) -> pa.Table:
    if "plan_id" not in table.column_names:
        return table
    inside = pc.is_in(table.column("plan_id"), plans)
    return table.filter(inside if keep else pc.invert(inside))


def previous_audit(tables: Tables, out: Path, rules: Sequence) -> PreviousAudit | None:
    """What the audit of ``tables`` can take from the package in ``out`` (None: nothing, every rule runs
    on every plan). ``rules``: the rules to run (``kehoach.audit.runner.Rule``)."""
    if current_descriptor(out) is None or versioning.read_state(out).get(STATE_KEY) != rules_fingerprint():
        return None
    changed = changed_plans(tables["plans"], out)
    recorded = RecordedFiles(out)
    if changed is None or not _intact(out, "findings", recorded):
        return None
    entries = entry_tables({name for name in resource_names() if resource_meta(name).get("derived")})
    same = entries | _same_as_in_place(tables, out, changed, recorded, entries, rules)
    # a rule from elsewhere (a test's) is not one the package in place's findings were made by
    local = frozenset(r.rule_id for r in rules if r.scope == "plan" and set(r.reads) <= same
                      and r.path.is_relative_to(AUDIT_DIR))
    if not local:
        return None
    plans = pa.array(sorted(changed), pa.string())
    found = pq.read_table(out / parquet_path("findings"))
    kept = _of_plans(found, plans, keep=False)
    kept = kept.filter(pc.is_in(kept.column("rule_id"), pa.array(sorted(local), pa.string())))
    schema = arrow_schema("findings")
    return PreviousAudit(frozenset(changed), local, kept.select(schema.names).cast(schema))


def _same_as_in_place(tables: Tables, out: Path, changed: set[str], recorded: RecordedFiles,
                      entries: set[str], rules: Sequence) -> set[str]:
    """Of the tables plan-local ``rules`` read that are not made of the entries alone, those whose rows of
    the unchanged plans (every row, in a table no plan owns) are the package in place's."""
    read = {name for r in rules if r.scope == "plan" for name in r.reads}
    plans = pa.array(sorted(changed), pa.string())
    same = set()
    for name in sorted(read - entries):
        if name not in tables or not _intact(out, name, recorded):
            continue
        now = _of_plans(tables[name], plans, keep=False)
        before = _of_plans(pq.read_table(out / parquet_path(name)), plans, keep=False)
        if _in_key_order(now, name).equals(_in_key_order(before.select(now.column_names).cast(now.schema), name)):
            same.add(name)
    return same


def _in_key_order(table: pa.Table, name: str) -> pa.Table:
    return table.sort_by([(key, "ascending") for key in primary_key(name)]).combine_chunks()


def _intact(out: Path, name: str, recorded: RecordedFiles) -> bool:
    """Whether the Parquet file of ``name`` in ``out`` is the one its descriptor records."""
    return recorded.holds(parquet_path(name))
