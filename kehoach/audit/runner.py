"""The consistency audit: data-driven SQL rules run in DuckDB over the package's tables.

Every rule is one file ``kehoach/audit/rules/<rule_id>.sql``: a header of
``-- key: value`` comment lines (id, severity, reads, titles and message
templates in Vietnamese and English), then one SELECT returning one row per
finding (the format is documented in ``kehoach/audit/rules/README.md``).
Rules read the tables and the shared views of ``kehoach/audit/views.sql`` only,
so each can be re-run by hand on the shipped ``data/kehoach.duckdb``.

The audit describes the document; it never changes what the document says.
A rule comparing amounts returns ``expected`` (what the other figures imply),
``actual`` (what the document states at the row the finding points to) and
``tolerance`` (half a unit of the last decimal written in the least precise
figure compared): a difference within the tolerance is reported as ``info``
(rounding) whatever the rule's severity, and equal figures give no finding.
"""

from __future__ import annotations

import re
import string
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from kehoach.audit.duckdb_tables import attach_tables, create_views
from kehoach.audit.scope import SCOPES, PreviousAudit
from kehoach.core.display import format_number
from kehoach.core.duckdb_memory import bounded
from kehoach.core.errors import KehoachError
from kehoach.core.model import Tables, arrow_schema, rows_to_arrow
from kehoach.core.paths import CODE_ROOT, RULES_DIR
from kehoach.read.sources import SourceRecord

SEVERITIES = ("error", "warning", "info")
HEADER_KEYS = ("id", "severity", "reads", "title_vi", "title_en", "message_vi", "message_en")
# Keys a rule may leave out: its scope is then the corpus (kehoach.audit.scope).
OPTIONAL_KEYS = ("scope",)
NUMBER_COLUMNS = ("expected", "actual", "difference", "tolerance")
ROUNDING_NOTE = {
    "vi": " Chênh lệch nằm trong sai số làm tròn của các số như được ghi (±{tolerance}).",
    "en": " The difference is within the rounding of the figures as written (±{tolerance}).",
}
_HEADER_LINE = re.compile(r"^--\s?(?P<key>[a-z_]+):\s*(?P<value>.*)$")
_CONTINUATION = re.compile(r"^--\s{3,}(?P<value>\S.*)$")
_SCALE = Decimal("0.000001")


@dataclass(frozen=True)
class Rule:
    rule_id: str
    severity: str
    reads: tuple[str, ...]
    title_vi: str
    title_en: str
    message_vi: str
    message_en: str
    sql: str
    path: Path
    scope: str = "corpus"

    @property
    def rule_file(self) -> str:
        try:
            return self.path.relative_to(CODE_ROOT).as_posix()
        except ValueError:
            return self.path.name


@dataclass
class AuditResult:
    tables: Tables
    counts: dict[str, int] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def summary_line(self) -> str:
        counts = ", ".join(f"{self.counts.get(s, 0)} {s}" for s in SEVERITIES)
        skipped = f" ({len(self.skipped)} skipped: {', '.join(self.skipped)})" if self.skipped else ""
        return f"{len(self.ran)} rules run{skipped}; {sum(self.counts.values())} findings: {counts}"


# --- rule files ------------------------------------------------------------------

def parse_rule(path: Path) -> Rule:
    """Read a rule file: its ``-- key: value`` header and its SQL."""
    text = path.read_text(encoding="utf-8")
    header: dict[str, str] = {}
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("--"):
            break
        m = _HEADER_LINE.match(line)
        if m and m["key"] in HEADER_KEYS + OPTIONAL_KEYS:
            if m["key"] in header:
                raise KehoachError(f"audit rule header repeats {m['key']!r}", path, number)
            current = m["key"]
            header[current] = m["value"].strip()
            continue
        m = _CONTINUATION.match(line)
        if m and current:
            header[current] += " " + m["value"].strip()
        else:
            current = None  # a free comment ends the value above
    missing = [k for k in HEADER_KEYS if not header.get(k)]
    if missing:
        raise KehoachError(f"audit rule header lacks {', '.join(missing)}", path, 1)
    if header["id"] != path.stem:
        raise KehoachError(f"audit rule id {header['id']!r} differs from its file name {path.stem!r}", path, 1)
    if header["severity"] not in ("error", "warning"):
        raise KehoachError(f"audit rule severity must be error or warning, not {header['severity']!r} "
                           "(info is given to differences within rounding)", path, 1)
    scope = header.get("scope", "corpus")
    if scope not in SCOPES:
        raise KehoachError(f"audit rule scope must be {' or '.join(SCOPES)}, not {scope!r}", path, 1)
    reads = tuple(r.strip() for r in header["reads"].split(",") if r.strip())
    return Rule(header["id"], header["severity"], reads, header["title_vi"], header["title_en"],
                header["message_vi"], header["message_en"], text, path, scope)


@cache
def _rules_in(directory: Path) -> tuple[Rule, ...]:
    return tuple(parse_rule(p) for p in sorted(directory.glob("*.sql")))


def load_rules(directory: Path = RULES_DIR) -> list[Rule]:
    return list(_rules_in(directory))


def rule_sql(directory: Path = RULES_DIR) -> list[dict]:
    """The rules' SQL, for the documentation table of the shipped database."""
    return [{"name": r.rule_id, "path": r.rule_file, "sql": r.sql} for r in load_rules(directory)]


# --- messages ----------------------------------------------------------------------

def _shown(name: str, value: Any, lang: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return format_number(value, lang, signed=name == "difference")
    return str(value)


@cache  # a rule's few templates, rendered for each of its findings (a corpus has tens of thousands)
def _fields(template: str) -> tuple[str, ...]:
    return tuple(f for _, f, _, _ in string.Formatter().parse(template) if f)


def render(template: str, values: dict[str, Any], lang: str, rule: Rule) -> str:
    names = _fields(template)
    unknown = sorted(set(names) - set(values))
    if unknown:
        raise KehoachError(f"message_{lang} uses {{{unknown[0]}}}, which the rule's query does not return",
                           rule.path, 1)
    return template.format_map({n: _shown(n, values[n], lang) for n in names})


# --- running ------------------------------------------------------------------------

def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(_SCALE)


def findings_of(rule: Rule, columns: list[str], rows: list[tuple]) -> list[dict]:
    """Turn a rule's result rows into findings (severity, difference, messages)."""
    missing = [c for c in ("plan_id", "row_key") if c not in columns]
    if missing:
        raise KehoachError(f"audit rule query returns no {missing[0]!r} column", rule.path, 1)
    out = []
    for values in rows:
        row = dict(zip(columns, values, strict=True))
        for c in NUMBER_COLUMNS:
            row[c] = _decimal(row.get(c))
        expected, actual, tolerance = row["expected"], row["actual"], row["tolerance"]
        row["difference"] = actual - expected if expected is not None and actual is not None else None
        severity, rounding = rule.severity, False
        if row["difference"] is not None:
            if row["difference"] == 0:
                continue  # equal figures are no finding
            if abs(row["difference"]) <= (tolerance or 0):
                severity, rounding = "info", True
        if not row["row_key"]:
            raise KehoachError("audit rule query returns an empty row_key", rule.path, 1)
        messages = {}
        for lang in ("vi", "en"):
            template = getattr(rule, f"message_{lang}") + (ROUNDING_NOTE[lang] if rounding else "")
            messages[lang] = render(template, row, lang, rule)
        out.append(dict(
            plan_id=row["plan_id"], rule_id=rule.rule_id, severity=severity,
            resource=row.get("resource") or rule.reads[0], row_key=row["row_key"],
            expected=expected, actual=actual, difference=row["difference"], tolerance=tolerance,
            message_vi=messages["vi"], message_en=messages["en"], source_line=row.get("source_line"),
        ))
    return out


def run_audit(tables: Tables, rules: list[Rule] | None = None, previous: PreviousAudit | None = None,
              spill_in: Path | None = None) -> AuditResult:
    """Attach the tables to an in-memory DuckDB, run every rule, return the tables
    with ``findings`` and ``audit_rules`` filled in. Given what a ``previous`` audit (the package
    in place's) gives, its rules run on its plans' rows alone (``kehoach.audit.scope``). DuckDB
    keeps to the build's budget, spilling in ``spill_in`` (default: the system's temporary folder)."""
    rules = load_rules() if rules is None else rules
    result = AuditResult(tables)
    local = previous.local if previous else frozenset()
    narrowed = previous.narrowed(tables) if previous else tables
    findings: list[dict] = []
    with bounded(spill_in or Path(tempfile.gettempdir())) as con:
        attached = attach_tables(con, tables)
        create_views(con)
        for rule in rules:
            # attached again: the pages the last rule read are let go with its tables' maps
            # (a corpus's tables are read from files: kehoach.parse.corpus_tables), not held to the end
            attach_tables(con, narrowed if rule.rule_id in local else tables, attached)
            missing = [name for name in rule.reads if name not in tables]
            findings += [] if missing else _run(con, rule)
            (result.skipped if missing else result.ran).append(rule.rule_id)
    _check_unique(findings, rules)
    found = rows_to_arrow("findings", findings)
    if previous:
        found = pa.concat_tables([found, previous.findings])
    found = _in_order(found, rules)
    result.counts = _counts(found.column("severity"), SEVERITIES)
    per_rule = _counts(found.column("rule_id"), [r.rule_id for r in rules])
    rule_rows = [dict(rule_id=rule.rule_id, severity=rule.severity, title_vi=rule.title_vi, title_en=rule.title_en,
                      resources=", ".join(rule.reads), status="ran" if rule.rule_id in result.ran else "skipped",
                      findings=per_rule.get(rule.rule_id, 0), rule_file=rule.rule_file) for rule in rules]
    result.tables = tables | {"findings": found, "audit_rules": rows_to_arrow("audit_rules", rule_rows)}
    return result


def _in_order(findings: pa.Table, rules: list[Rule]) -> pa.Table:
    """The findings by plan, severity, source line (none last), rule (in the rules' order), row key."""
    keyed = findings.append_column("_severity", pc.index_in(findings.column("severity"), pa.array(SEVERITIES)))
    keyed = keyed.append_column("_no_line", pc.is_null(findings.column("source_line")))
    keyed = keyed.append_column("_rule", pc.index_in(findings.column("rule_id"),
                                                     pa.array([r.rule_id for r in rules], pa.string())))
    keys = ("plan_id", "_severity", "_no_line", "source_line", "_rule", "row_key")
    order = pc.sort_indices(keyed, sort_keys=[(k, "ascending") for k in keys])
    return findings.take(order).cast(arrow_schema("findings"))


def _counts(column: pa.ChunkedArray, names: list[str] | tuple[str, ...]) -> dict[str, int]:
    """How many times each of ``names`` is in ``column``, in their order (those with none left out)."""
    found = {c["values"]: c["counts"] for c in pc.value_counts(column).to_pylist()}
    return {n: found[n] for n in names if n in found}


def _run(con, rule: Rule) -> list[dict]:
    try:
        cursor = con.execute(rule.sql)
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    except (duckdb.OutOfMemoryException, duckdb.IOException):
        raise  # the machine's, not the rule's: said as such (kehoach.core.errors.memory_error, bounded)
    except duckdb.Error as exc:
        message = " ".join(str(exc).split())
        raise KehoachError(f"audit rule {rule.rule_id} failed: {message}", rule.path) from None
    return findings_of(rule, columns, rows)


def _check_unique(findings: list[dict], rules: list[Rule]) -> None:
    seen: set[tuple] = set()
    paths = {r.rule_id: r.path for r in rules}
    for f in findings:
        key = (f["plan_id"], f["rule_id"], f["row_key"])
        if key in seen:
            raise KehoachError(f"audit rule gives two findings for the same row_key {f['row_key']}",
                               paths[f["rule_id"]], 1)
        seen.add(key)


# --- using the findings ---------------------------------------------------------------

def counts(tables: Tables) -> dict[str, int]:
    found: dict[str, int] = {}
    if "findings" in tables:
        found = {c["values"]: c["counts"] for c in pc.value_counts(tables["findings"].column("severity")).to_pylist()}
    return {s: found.get(s, 0) for s in SEVERITIES}


def _errors(tables: Tables, shown: int) -> tuple[list[dict], int]:
    """The first ``shown`` 'error' findings as rows, and how many there are (a corpus has thousands:
    not all made Python rows)."""
    findings = tables["findings"]
    errors = findings.filter(pc.equal(findings.column("severity"), "error"))
    return errors.slice(0, shown).to_pylist(), errors.num_rows


def strict_error(tables: Tables, sources: list[SourceRecord]) -> KehoachError | None:
    """The error ``--strict`` fails with: the first 'error' finding, located in its plan's text."""
    errors, total = _errors(tables, 1)
    if not errors:
        return None
    first = errors[0]
    plans = {p["plan_id"]: p["source_sha256"] for p in tables["plans"].to_pylist()}
    path = next((s.path for s in sources if s.sha256 == plans.get(first["plan_id"])), None)
    return KehoachError(
        f"--strict: the audit found {total} error(s) (the document contradicts itself); "
        f"first: {first['rule_id']}: {first['message_en']}", path, first["source_line"])


def summary(tables: Tables, limit: int = 5) -> tuple[str, str] | None:
    """A short audit summary for the package description (None when no audit ran)."""
    rules = tables.get("audit_rules")
    if rules is None or rules.num_rows == 0:
        return None
    c = counts(tables)
    statuses = rules.column("status").to_pylist()
    ran, skipped = statuses.count("ran"), statuses.count("skipped")
    vi = (f"Kiểm tra tính nhất quán ({ran} quy tắc" + (f", {skipped} bỏ qua" if skipped else "") + "): "
          f"{c['error']} lỗi (văn bản tự mâu thuẫn), {c['warning']} cảnh báo, {c['info']} chênh lệch do làm tròn; "
          "chi tiết trong bảng findings và README.md.")
    en = (f"Consistency audit ({ran} rules" + (f", {skipped} skipped" if skipped else "") + "): "
          f"{c['error']} error(s) (the document contradicts itself), {c['warning']} warning(s), "
          f"{c['info']} rounding difference(s); details in the findings table and README.md.")
    errors, total = _errors(tables, limit)
    plans = tables["plans"]
    numbers = dict(zip(plans.column("plan_id").to_pylist(), plans.column("number").to_pylist(), strict=True))
    tag = (lambda f: f"[{numbers.get(f['plan_id'], f['plan_id'])}] ") if len(numbers) > 1 else (lambda f: "")
    if errors:
        more_vi = f" (và {total - limit} lỗi khác)" if total > limit else ""
        more_en = f" (and {total - limit} more)" if total > limit else ""
        vi += " Lỗi: " + " ".join(tag(f) + f["message_vi"] for f in errors) + more_vi
        en += " Errors: " + " ".join(tag(f) + f["message_en"] for f in errors) + more_en
    return vi, en
