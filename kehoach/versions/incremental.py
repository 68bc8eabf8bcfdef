"""What of a corpus can differ from the package in place, by the parse cache's keys.

A plan whose source (its file's name and bytes) and parser (``parser_fingerprint``, recorded in
the package's state) are those the package in place was built from has the rows its entry gave
then, in every table made of the entries' rows alone (``entry_tables``). Comparing the new tables
with the package in place, only the other plans' rows of those tables need be compared: a corpus
in which one plan was amended compares that plan's rows, and the changes are those a comparison
of every row gives (a test compares).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kehoach.core.model import primary_key, resource_names
from kehoach.package.constraints import RowScope
from kehoach.package.layout import parquet_path
from kehoach.parse.cache import parser_fingerprint
from kehoach.parse.series import CORPUS_TABLES
from kehoach.versions import versioning


def entry_tables(derived: Collection[str]) -> set[str]:
    """The tables whose rows of a plan are its parse cache entry's, whatever the corpus: keyed by
    plan, neither derived nor made from the whole corpus (``link_series``)."""
    return {name for name in resource_names() if "plan_id" in primary_key(name) and name not in derived
            and name not in CORPUS_TABLES}


def changed_plans(plans: pa.Table, out: Path) -> set[str] | None:
    """The plans whose rows may differ from the package's in ``out``: those whose source (its file's
    name and sha256) is not the one it was built from; None (every plan) when the package was made
    by another parser (``parser_fingerprint``, recorded in its state) or says nothing of it."""
    if versioning.read_state(out).get("parser_fingerprint") != parser_fingerprint():
        return None
    columns = ["plan_id", "source_file", "source_sha256"]
    before = set(zip(*(pq.read_table(out / parquet_path("plans"), columns=columns).column(c).to_pylist()
                       for c in columns), strict=True))
    now = set(zip(*(plans.column(c).to_pylist() for c in columns), strict=True))
    return {plan_id for plan_id, _, _ in before ^ now}


def scope(plans: pa.Table, out: Path, derived: Collection[str]) -> RowScope | None:
    """The rows to compare (and validate): of the entry tables, the changed plans'; None: every row."""
    changed = changed_plans(plans, out)
    return None if changed is None else RowScope(frozenset(changed), frozenset(entry_tables(derived)))
