"""The audit of a refresh (kehoach.audit.scope): the rules declared plan-local run on the changed plans'
rows alone, their other findings taken from the package in place; the result is a full audit's."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from corpus import amend, variant
from helpers import plan_text
from sample_plans import OTHER_PLAN
from series import series

from kehoach import build
from kehoach.audit.runner import load_rules, parse_rule, run_audit, strict_error
from kehoach.audit.scope import STATE_KEY, previous_audit
from kehoach.package.layout import parquet_path
from kehoach.parse.corpus import parse_sources
from kehoach.read.sources import read_source
from kehoach.versions import versioning

UNVALIDATED = build.Steps(validate=lambda *args: None)
CORPUS_RULE = """\
-- id: corpus_budget_share
-- severity: warning
-- scope: corpus
-- reads: budget_lines, plans
-- title_vi: Phần kinh phí của kế hoạch trong cả bộ
-- title_en: The plan's share of the corpus's budget
-- message_vi: {total}
-- message_en: {total}
SELECT plan_id, json_object('corpus_total', (SELECT sum(amount_million_vnd) FROM budget_lines))::VARCHAR AS row_key,
       (SELECT sum(amount_million_vnd) FROM budget_lines) AS total
FROM plans
"""


def write_texts(folder: Path, texts: list[str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"plan-{i}.txt" for i in range(len(texts))]
    for path, text in zip(paths, texts, strict=True):
        path.write_text(text, encoding="utf-8")
    return paths


def alone(tables, plan_id: str):
    """The tables of the one plan ``plan_id`` (a table no plan owns, whole)."""
    return {name: table.filter(pc.equal(table.column("plan_id"), plan_id)) if "plan_id" in table.column_names
            else table for name, table in tables.items()}


def _key(finding: dict) -> str:
    return json.dumps(finding, default=str, sort_keys=True)


def rows(table: pa.Table, plan_id: str | None = None) -> list[dict]:
    return [r for r in table.to_pylist() if plan_id is None or r["plan_id"] == plan_id]


@pytest.fixture(scope="module")
def refresh(tmp_path_factory):
    """A package of a series of three plans, then the middle one amended and the texts parsed again:
    (output, the new tables, the sources, the amended plan's id)."""
    folder = tmp_path_factory.mktemp("audit-scope")
    paths = write_texts(folder / "plans", [text for text, _ in series(plan_text())])
    out = folder / "out"
    build.run_build([folder / "plans"], out, steps=UNVALIDATED)
    amend(paths[1])
    files = build.read_sources([folder / "plans"])
    tables = parse_sources(files, build.parse_cache(out))
    amended = rows(tables["plans"].select(["plan_id", "source_file"]))
    [plan_id] = [p["plan_id"] for p in amended if p["source_file"] == paths[1].name]
    return out, tables, build.describe_sources(files), plan_id


def test_a_refresh_audits_the_changed_plan_alone_and_finds_what_a_full_audit_finds(refresh):
    out, tables, sources, amended = refresh
    previous = previous_audit(tables, out, load_rules())
    assert previous.plans == {amended}
    # every rule is declared plan-local, and the plans' rows other than the amended one are those in place
    assert previous.local == {r.rule_id for r in load_rules()}
    others = set(tables["plans"].column("plan_id").to_pylist()) - {amended}
    assert set(previous.findings.column("plan_id").to_pylist()) == others
    scoped, full = build.audit(tables, sources, out), run_audit(tables)
    assert rows(scoped.tables["findings"]) == rows(full.tables["findings"])
    assert rows(scoped.tables["audit_rules"]) == rows(full.tables["audit_rules"])
    assert (scoped.counts, scoped.ran, scoped.skipped) == (full.counts, full.ran, full.skipped)
    # --strict fails on the whole corpus's errors, the first of them named
    strict = strict_error(scoped.tables, sources)
    assert strict is not None and str(strict) == str(strict_error(full.tables, sources))
    # the amended plan's findings are its new rows': its doubled row breaks its group's subtotal
    before = {(f["rule_id"], f["row_key"]) for f in rows(pq.read_table(out / parquet_path("findings")), amended)}
    now = {(f["rule_id"], f["row_key"]) for f in rows(full.tables["findings"], amended)}
    assert "budget_group_subtotal" in {rule for rule, _ in now - before}


def test_a_rule_declared_corpus_wide_still_sees_every_plan(refresh, tmp_path):
    out, tables, _, amended = refresh
    path = tmp_path / "corpus_budget_share.sql"
    path.write_text(CORPUS_RULE, encoding="utf-8")
    rules = [*load_rules(), parse_rule(path)]
    previous = previous_audit(tables, out, rules)
    assert "corpus_budget_share" not in previous.local and previous.plans == {amended}
    scoped = run_audit(tables, rules, previous)
    assert rows(scoped.tables["findings"]) == rows(run_audit(tables, rules).tables["findings"])
    total = sum(tables["budget_lines"].column("amount_million_vnd").to_pylist())
    # every plan's finding holds the corpus's total, the amended plan's new amount in it
    assert {(f["plan_id"], json.loads(f["row_key"], parse_float=Decimal)["corpus_total"])
            for f in rows(scoped.tables["findings"]) if f["rule_id"] == "corpus_budget_share"} == {
        (p, total) for p in tables["plans"].column("plan_id").to_pylist()}


def test_the_whole_audit_runs_when_the_package_in_place_cannot_vouch_for_its_findings(refresh, tmp_path):
    out, tables, _, _ = refresh
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    rules = load_rules()
    # a code list that is not the one the package in place was audited with: the rules reading it run on every plan
    agencies = tables["agencies"]
    renamed = agencies.set_column(agencies.column_names.index("name_vi"), "name_vi",
                                  pa.array(["?"] * agencies.num_rows, pa.string()))
    local = previous_audit(tables | {"agencies": renamed}, copy, rules).local
    assert {r.rule_id for r in rules} - local == {r.rule_id for r in rules if "agencies" in r.reads} != set()
    # its findings file is not the one its descriptor records
    findings = copy / parquet_path("findings")
    pq.write_table(pq.read_table(findings).slice(1), findings)
    assert previous_audit(tables, copy, rules) is None
    # made by another audit (another rule set or its code): its state says so
    shutil.rmtree(copy)
    shutil.copytree(out, copy)
    state = versioning.read_state(copy)
    versioning.write_state(copy, state | {STATE_KEY: "0" * 64})
    assert previous_audit(tables, copy, rules) is None


@pytest.fixture(scope="module")
def corpus_tables(tmp_path_factory):
    """Five plans: a series of three (linked; the last after the 2025 reorganisation), another province's, and a
    copy of the first amended."""
    texts = [text for text, _ in series(plan_text())] + [OTHER_PLAN, variant(plan_text(), 1)]
    paths = write_texts(tmp_path_factory.mktemp("audit-locality"), texts)
    amend(paths[-1])
    return parse_sources([read_source(p) for p in paths])


def test_rules_declared_plan_local_find_in_each_plan_alone_what_they_find_in_the_corpus(corpus_tables):
    local = [r for r in load_rules() if r.scope == "plan"]
    whole = rows(run_audit(corpus_tables, local).tables["findings"])
    plans = corpus_tables["plans"].column("plan_id").to_pylist()
    each = [f for plan_id in plans for f in rows(run_audit(alone(corpus_tables, plan_id), local).tables["findings"])]
    assert sorted(map(_key, whole)) == sorted(map(_key, each))
    # not vacuous: the rules find something in every plan, ceased agencies and mistyped years among it
    assert len({f["plan_id"] for f in whole}) == len(plans)
    assert {"agency_ceased", "citation_year_mismatch", "budget_group_subtotal"} <= {f["rule_id"] for f in whole}
