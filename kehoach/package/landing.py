"""The package's landing page, ``index.html``, and its charts as SVG files.

A stage hook (like the README's) writes them into the staged package and lists
them in ``datapackage.json`` as file resources with hash and bytes; the first
chart is the descriptor's ``image``. The page is static and works offline,
opened from disk: inline CSS, charts drawn here as inline SVG
(``kehoach.package.charts``), no script library, no network. Its layout is the
template ``templates/index.html``; this module fills it. It depends only on the
tables and the package's identity (version, date, address: the stage hooks'
extras), so the same data gives the same bytes.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template

from kehoach import __version__
from kehoach.audit.runner import SEVERITIES, counts
from kehoach.core.model import Tables, load_schema, package_descriptor, resource_meta, resource_names
from kehoach.package import pending
from kehoach.package.charts import Chart, number, render_svg
from kehoach.package.citation import CITATION_FILE, recommended
from kehoach.package.csv_file import csv_value
from kehoach.package.database import DATABASE_FILE
from kehoach.package.landing_data import BUDGET_CHART, charts
from kehoach.package.landing_series import over_time
from kehoach.package.layout import CHARTS_DIR, PAGE_FILE, SOURCE_DIR, csv_path, parquet_path
from kehoach.package.readme import HEADINGS, listed, more_findings
from kehoach.package.source_files import published_at
from kehoach.package.workbook import WORKBOOK_FILE
from kehoach.package.writer import file_resource, package_info

# The name the charts are drawn under while the stage writes the rest (``begin_charts``).
CHARTS_WORK = "charts"

PAGE_RESOURCE = "landing-page"
TEMPLATE = Path(__file__).with_name("templates") / "index.html"
PREVIEW_ROWS = 5
REVIEW_HEADING = ("Dòng cần đối chiếu với văn bản (đọc bằng OCR)", "Rows to check against the document (read by OCR)")
REVIEW_NOTE = ("Các dòng này vẫn ở trong bảng, được đánh dấu ở cột needs_review; các phép kiểm tra tổng vẫn chạy "
               "trên chúng.",
               "They stay in the tables, marked in the needs_review column; the sum checks ran over them.")


class Html(str):
    """A cell that is markup already (a link), not text to escape."""


def _cell(value: object) -> str:
    return value if isinstance(value, Html) else escape(csv_value(value))


def _table(header: list[str], rows: list[list[object]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{_cell(c)}</td>'
                         for i, c in enumerate(row)) + "</tr>"
        for row in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _bi(vi: str, en: str) -> str:
    return f'{escape(vi)} <span class="en">/ {escape(en)}</span>'


# --- sections -------------------------------------------------------------------

def _plans(tables: Tables, published: dict[str, tuple[str, str]]) -> str:
    rows = [[p["number"], p["issuer"], p["issued_date"], p["title"], p.get("plan_year"), p.get("province"),
             _source_link(p.get("source_file")), _published(published.get(p.get("source_file") or "", ("", "")))]
            for p in tables["plans"].to_pylist()]
    return _table(["Số / Number", "Cơ quan ban hành / Issuer", "Ngày ban hành / Issued", "Tên / Title",
                   "Năm kế hoạch / Plan year", "Tỉnh / Province", "Văn bản gốc / Source text",
                   "Nơi công bố / Published at"], rows)


def _published(where: tuple[str, str]) -> Html | str:
    """The page the text was published on, or why it is not known (``source_files.published_at``)."""
    url, note = where
    return Html(f'<a href="{escape(url)}">{escape(url)}</a>') if url else note


def _source_link(name: str | None) -> Html | str:
    """The plan text as shipped in the package (``source/``), so every source_line can be checked."""
    return Html(f'<a href="{SOURCE_DIR}/{escape(name)}">{escape(name)}</a>') if name else ""


def _findings(tables: Tables) -> str:
    rules = tables["audit_rules"].to_pylist() if "audit_rules" in tables else []
    if not rules:
        return "<p>Chưa chạy kiểm tra. <span class=en>/ The audit was not run.</span></p>"
    c = counts(tables)
    ran = sum(1 for r in rules if r["status"] == "ran")
    parts = [
        f"<p>{ran} quy tắc kiểm tra tính nhất quán đã chạy trên văn bản: {c['error']} lỗi (văn bản tự mâu thuẫn), "
        f"{c['warning']} cảnh báo (dữ liệu đáng ngờ hoặc thiếu), {c['info']} chênh lệch do làm tròn. Các bảng giữ "
        "nguyên số liệu như văn bản ghi; kết quả kiểm tra nằm ở bảng <code>findings</code>.</p>",
        f'<p class="en">{ran} consistency rules were run over the text: {c["error"]} errors (the document '
        f"contradicts itself), {c['warning']} warnings (suspicious or missing data), {c['info']} rounding "
        "differences. The tables keep the figures exactly as the document states them; the findings are in the "
        "<code>findings</code> table.</p>"]
    several = len(tables["plans"]) > 1
    findings = tables["findings"]
    for severity in SEVERITIES:
        chosen, total = listed(findings, severity)
        if not chosen:
            continue
        vi, en = HEADINGS[severity]
        parts.append(f'<h3><span class="badge {severity}">{severity}</span> {_bi(vi, en)} ({total})</h3><ul>')
        for f in chosen:
            where = f"{f['plan_id']}, " if several else ""
            line = f"{where}dòng / line {f['source_line']}: " if f["source_line"] else where
            parts.append(f"<li>{escape(line)}{escape(f['message_vi'])}<br>"
                         f'<span class="en">{escape(f["message_en"])}</span></li>')
        parts.append("</ul>")
        if total > len(chosen):
            parts.append(f"<p>{_bi(*more_findings(total - len(chosen), table='findings'))}</p>")
    return "\n".join(parts)


def _review(tables: Tables, shown: int = 100) -> str:
    """Rows read by OCR with a doubtful value (``needs_review``), with their table, line and page."""
    marked = [name for name in resource_names() if name in tables and "needs_review" in tables[name].schema.names]
    doubtful, total = [], 0  # the rows shown alone made Python rows
    for name in marked:
        flagged = tables[name].filter(tables[name]["needs_review"])
        doubtful += [(name, row) for row in flagged.slice(0, max(shown - len(doubtful), 0)).to_pylist()]
        total += flagged.num_rows
    if not total:
        return ""
    parts = [f"<h3>{_bi(*REVIEW_HEADING)} ({total})</h3>", f"<p>{_bi(*REVIEW_NOTE)}</p><ul>"]
    for name, row in doubtful:
        parts.append(f"<li><code>{escape(name)}</code>, dòng / line {row['source_line']}, trang / page "
                     f"{row['source_page']}: {_bi('độ tin cậy', 'confidence')} {row['ocr_confidence']}</li>")
    parts.append("</ul>")
    if total > shown:
        left = total - shown
        parts.append(f"<p>{_bi(f'… và {left} dòng khác', f'… and {left} more')} (<code>needs_review</code>)</p>")
    return "\n".join(parts)


def _chart(chart: Chart) -> str:
    svg = render_svg(chart)
    return (f'<figure class="chart" id="chart-{chart.key}">\n{svg}'
            f"<figcaption>{_bi(chart.note_vi, chart.note_en)} "
            f'(<a href="{CHARTS_DIR}/{chart.key}.svg">SVG</a>)</figcaption></figure>')


def _dictionary(name: str) -> str:
    rows = [[f["name"], f.get("type", "string"), f.get("title_vi", ""), f.get("title", ""),
             f.get("description_vi", ""), f.get("description", "")] for f in load_schema(name)["fields"]]
    return _table(["Trường / Field", "Kiểu / Type", "Tên", "Title", "Mô tả", "Description"], rows)


def _table_section(tables: Tables, name: str) -> str:
    meta, table = resource_meta(name), tables[name]
    fields = table.column_names
    numeric = {i for i, f in enumerate(load_schema(name)["fields"]) if f.get("type") in ("number", "integer")}
    preview = table.slice(0, PREVIEW_ROWS).to_pylist()
    rows = [[r[f] for f in fields] for r in preview]
    shown = (_table(fields, rows, numeric) if rows
             else "<p>Không có dòng nào. <span class=en>/ No rows.</span></p>")
    return (f'<details id="table-{name}"><summary><code>{escape(name)}</code> — {_bi(meta["title_vi"], meta["title"])}'
            f" ({table.num_rows} dòng / rows)</summary>\n"
            f"<p>{escape(meta['description_vi'])}<br><span class=en>{escape(meta['description'])}</span></p>\n"
            f'<p><a href="{csv_path(name)}">CSV</a> · <a href="{parquet_path(name)}">Parquet</a></p>\n'
            f"<h4>{_bi('Các dòng đầu', 'First rows')}</h4>\n{shown}\n"
            f"<h4>{_bi('Từ điển dữ liệu', 'Data dictionary')}</h4>\n{_dictionary(name)}\n</details>")


def _citation(tables: Tables, extra: dict) -> str:
    """The recommended citation, the same sentence as CITATION.cff and the README."""
    licence = package_descriptor()["licenses"][0]["name"]
    return escape(f"{recommended(tables, extra)}\nGiấy phép / licence: {licence}.")


def _licence() -> str:
    base = package_descriptor()
    items = "".join(f'<li><a href="{escape(lic["path"])}">{escape(lic.get("title") or lic["name"])}</a> '
                    f"({escape(lic['name'])})</li>" for lic in base["licenses"])
    return f"<ul>{items}</ul><p>{escape(base['licence_note_vi'])}</p><p class=en>{escape(base['licence_note_en'])}</p>"


def _changelog(tables: Tables, version: str, extra: dict) -> str:
    previous = extra.get("previous_version")
    if not previous:
        return (f"<p>Phiên bản {escape(version)}: phiên bản đầu tiên. "
                f"<span class=en>/ Version {escape(version)}: the first version.</span></p>")
    parts = [f"<p>Phiên bản {escape(version)} thay cho {escape(previous)}. "
             f"<span class=en>/ Version {escape(version)} replaces {escape(previous)}.</span></p>"]
    if extra.get("change_summary_vi"):
        parts.append(f"<p>{escape(extra['change_summary_vi'])}</p><p class=en>{escape(extra['change_summary'])}</p>")
    # a changed row has one change per field: count rows, as the summary does
    tally: dict[tuple[str, str], set] = {}
    for row in tables["changes"].to_pylist():
        tally.setdefault((row["resource"], row["change"]), set()).add(row["row_key"])
    if tally:
        parts.append(_table(["Bảng / Table", "Thay đổi / Change", "Dòng / Rows"],
                            [[r, c, len(keys)] for (r, c), keys in sorted(tally.items())], {2}))
    parts.append('<p>Chi tiết: bảng <a href="#table-changes"><code>changes</code></a>. '
                 '<span class=en>/ Details: the <code>changes</code> table.</span></p>')
    return "\n".join(parts)


# --- the page and the hook -------------------------------------------------------

def render_page(tables: Tables, drawn: list[Chart], version: str, extra: dict,
                published: dict[str, tuple[str, str]] | None = None) -> str:
    info = package_info(tables, [], version, "")
    plans = tables["plans"].to_pylist()
    budget = next((sum(c.totals()) for c in drawn if c.key == BUDGET_CHART), 0)
    subheading = (f"Dữ liệu mở, phiên bản {version} · {tables['tasks'].num_rows} nhiệm vụ · "
                  f"{number(budget)} triệu đồng kinh phí khái toán / open data, version {version} · "
                  f"{tables['tasks'].num_rows} tasks · {number(budget, 'en')} million VND of estimated budget")
    names = [n for n in resource_names() if n in tables]
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        title=escape(info.title_vi),
        heading=escape(plans[0]["title"] if len(plans) == 1 else info.title_vi),
        subheading=escape(subheading),
        generator=escape(f"kehoach {__version__}"),
        # with the province on the issue date and what changed since the last plan
        plans=_plans(tables, published or {}) + over_time(tables),
        # the first paragraph only: the audit and the change have sections of their own
        description_vi=escape(info.description_vi.split("\n\n")[0]),
        description_en=escape(info.description_en.split("\n\n")[0]),
        findings=_findings(tables) + _review(tables),
        charts="\n".join(_chart(c) for c in drawn) or "<p>Không có số liệu để vẽ. / Nothing to chart.</p>",
        database=DATABASE_FILE,
        tables="\n".join(_table_section(tables, n) for n in names),
        citation=_citation(tables, extra),
        citation_file=CITATION_FILE,
        workbook=WORKBOOK_FILE,
        licence=_licence(),
        changelog=_changelog(tables, version, extra),
    )


def begin_charts(tables: Tables, directory: Path) -> None:
    """Draw the charts of the package staged in ``directory`` while its other files are written (a thread:
    ``kehoach.package.pending.begin``); ``stage_landing_page`` takes them."""
    pending.begin(directory, CHARTS_WORK, lambda: charts(tables, directory))


def stage_landing_page(tables: Tables, directory: Path, extra: dict) -> list[dict]:
    """Stage hook: write ``index.html`` and ``charts/*.svg``; the first chart is the package's ``image``."""
    version = str(extra.get("version") or "")
    drawn = pending.take(directory, CHARTS_WORK, lambda: charts(tables, directory))  # begun, or drawn now
    (directory / CHARTS_DIR).mkdir(exist_ok=True)
    resources = []
    for chart in drawn:
        relpath = f"{CHARTS_DIR}/{chart.key}.svg"
        (directory / relpath).write_text(render_svg(chart), encoding="utf-8")
        resources.append(file_resource(directory, relpath, f"chart-{chart.key.replace('_', '-')}", format="svg",
                                       mediatype="image/svg+xml", title=chart.title_en, title_vi=chart.title_vi))
    published = {f: published_at(directory, f) for f in tables["plans"].column("source_file").to_pylist() if f}
    (directory / PAGE_FILE).write_text(render_page(tables, drawn, version, extra, published), encoding="utf-8")
    if drawn:
        extra["image"] = f"{CHARTS_DIR}/{drawn[0].key}.svg"
    page = file_resource(directory, PAGE_FILE, PAGE_RESOURCE, format="html", mediatype="text/html",
                         title="Landing page: the plan, the audit's findings, charts, tables and their dictionary",
                         title_vi="Trang giới thiệu: kế hoạch, kết quả kiểm tra, biểu đồ, các bảng và từ điển dữ liệu")
    return [page, *resources]
