"""README.md of the package: what is in it, the audit summary, how to open the database.

Written into the staging directory by a stage hook and described in
datapackage.json as a file resource (hash and bytes checked by Frictionless).
Its text depends on the tables and on the version, dates and address of the package
(for the citation), never on when or where it was built otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from kehoach.audit.runner import SEVERITIES, counts
from kehoach.core.model import Tables, resource_meta, resource_names
from kehoach.core.paths import VIEWS_SQL
from kehoach.package.citation import CITATION_FILE, recommended
from kehoach.package.database import DATABASE_FILE, OLDEST_READER, STORAGE_VERSION, duckdb_version
from kehoach.package.layout import CHARTS_DIR, DATA_DIR, PAGE_FILE, SOURCE_DIR, csv_path
from kehoach.package.source_files import published_at
from kehoach.package.workbook import WORKBOOK_FILE, workbook_wanted
from kehoach.package.writer import ESTIMATES_EN, ESTIMATES_VI, file_resource

README_FILE = "README.md"
README_RESOURCE = "readme"

HEADINGS = {
    "error": ("Lỗi: văn bản tự mâu thuẫn", "Errors: the document contradicts itself"),
    "warning": ("Cảnh báo: dữ liệu đáng ngờ hoặc thiếu", "Warnings: suspicious or missing data"),
    "info": ("Làm tròn", "Rounding"),
}

# A corpus's findings run to thousands: the README and the landing page list this many of each
# severity (a plan's few, all of them), then say how many more the findings table holds.
LISTED_FINDINGS = 100
FINDINGS_CSV = csv_path("findings")


def listed(findings: pa.Table, severity: str) -> tuple[list[dict], int]:
    """The findings of ``severity`` listed (at most ``LISTED_FINDINGS``), and their total (those
    listed alone made Python rows: a national corpus has hundreds of thousands)."""
    chosen = findings.filter(pc.equal(findings.column("severity"), severity))
    return chosen.slice(0, LISTED_FINDINGS).to_pylist(), chosen.num_rows


def more_findings(left: int, table: str = "`findings`") -> tuple[str, str]:
    """What follows a list cut short, in Vietnamese and in English; ``table``: the findings
    table's name as the text shows it (Markdown code here, plain on the landing page)."""
    return (f"… và {left} phát hiện khác trong bảng {table} ({FINDINGS_CSV})",
            f"… and {left} more in the {table} table ({FINDINGS_CSV})")


POLICY = """\
- **error**: văn bản tự mâu thuẫn (một số tổng không bằng tổng các thành phần, hai phần của văn bản ghi \
hai số khác nhau cho cùng một khoản, thời hạn trước ngày ban hành). / The document contradicts itself \
(a total is not the sum of its parts, two parts of the document give different figures for the same \
money, a deadline before the issue date).
- **warning**: dữ liệu đáng ngờ hoặc thiếu (ô để trống, số thứ tự nhảy cóc hoặc viết sai, nhiệm vụ không \
có thời hạn hay cơ quan chủ trì). / Suspicious or missing data (blank cells, numbering that skips or is \
malformed, tasks without a deadline or a lead agency).
- **info**: chênh lệch không vượt quá nửa đơn vị của chữ số thập phân cuối cùng được ghi ở số kém chính \
xác nhất trong các số được so sánh (ví dụ ±0,5 khi có số ghi không có phần thập phân): có thể do làm tròn. \
/ A difference no larger than half a unit of the last decimal place written in the least precise figure \
compared (e.g. ±0.5 when a figure is written without decimals): it may come from rounding.

Kết quả kiểm tra chỉ mô tả văn bản: các bảng khác giữ đúng số liệu như văn bản ghi. / The audit \
describes the document: every other table keeps the figures exactly as the document states them. \
`expected` là giá trị các số liệu khác cho thấy, `actual` là số văn bản ghi tại dòng được đề cập, \
`difference` = actual − expected (triệu đồng). / `expected` is what the other figures imply, `actual` \
what the document states at the row the finding points to, `difference` = actual − expected (million VND)."""


def _cell(text: object) -> str:
    return "" if text is None else " ".join(str(text).split()).replace("|", "\\|")


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _title(tables: Tables, published: dict[str, tuple[str, str]]) -> list[str]:
    plans = tables["plans"].to_pylist()
    lines = []
    for p in plans:
        lines.append(f"# {p['title']} ({p['number']}, {p['issued_date']:%d/%m/%Y})" if len(plans) == 1
                     else f"- {p['title']} ({p['number']}, {p['issued_date']:%d/%m/%Y})")
        url, note = published.get(p.get("source_file") or "", ("", ""))
        if url or note:
            lines.append(f"{'' if len(plans) == 1 else '  '}Nơi công bố / Published at: {url or note}")
    if len(plans) != 1:
        lines.insert(0, f"# {len(plans)} kế hoạch / {len(plans)} plans\n")
    lines += ["", "Dữ liệu mở trích xuất từ văn bản kế hoạch bởi kehoach; mọi dòng ghi số dòng trong văn bản gốc "
              "(`source_line`). / Open data extracted from the plan text by kehoach; every row records its line "
              "in the source text (`source_line`). Tiền tệ: triệu đồng / money: million VND.", "",
              f"**{ESTIMATES_VI}** / **{ESTIMATES_EN}**"]
    return lines


def _files(tables: Tables) -> list[str]:
    rows = []
    for name in resource_names():
        if name not in tables:
            continue
        meta = resource_meta(name)
        rows.append([f"`{DATA_DIR}/{name}.csv` (+ `.parquet`)", tables[name].num_rows, meta["title_vi"], meta["title"]])
    rows.append([f"`{DATABASE_FILE}`", "", "Cơ sở dữ liệu DuckDB: mọi bảng, khóa, view",
                 "DuckDB database: every table, keys, views"])
    if workbook_wanted(tables):
        rows.append([f"`{WORKBOOK_FILE}`", "", "Sổ tính Excel: mỗi bảng một trang, mã số dạng văn bản, trang codebook",
                     "Excel workbook: a sheet per table, codes as text, a codebook sheet"])
    rows.append([f"`{SOURCE_DIR}/`", "", "Văn bản gốc đã đọc và nguồn gốc của nó (`.origin.json`)",
                 "The source text as read, and where it came from (`.origin.json`)"])
    rows.append([f"`{CITATION_FILE}`", "", "Cách trích dẫn", "How to cite"])
    rows.append([f"`{PAGE_FILE}`, `{CHARTS_DIR}/`", "", "Trang giới thiệu (mở bằng trình duyệt) và biểu đồ SVG",
                 "Landing page (open it in a browser) and its SVG charts"])
    rows.append(["`datapackage.json`", "", "Mô tả gói dữ liệu (Frictionless)", "Package descriptor (Frictionless)"])
    return ["## Tệp / Files", "", *_table(["Tệp / File", "Dòng / Rows", "Nội dung", "Contents"], rows)]


def _audit(tables: Tables) -> list[str]:
    rules = tables["audit_rules"].to_pylist() if "audit_rules" in tables else []
    if not rules:
        return ["## Kiểm tra tính nhất quán / Consistency audit", "", "Chưa chạy. / Not run."]
    c = counts(tables)
    ran = [r for r in rules if r["status"] == "ran"]
    lines = ["## Kiểm tra tính nhất quán / Consistency audit", "",
             f"{len(ran)} quy tắc đã chạy / rules run: **{c['error']} error**, **{c['warning']} warning**, "
             f"**{c['info']} info** (bảng / table `findings`; quy tắc / rules: `audit_rules`).", "", POLICY]
    findings = tables["findings"]
    several = len(tables["plans"]) > 1
    titles = {r["rule_id"]: r for r in rules}
    for severity in SEVERITIES:
        chosen, total = listed(findings, severity)
        if not chosen:
            continue
        vi, en = HEADINGS[severity]
        header = (["Kế hoạch / Plan"] if several else []) + ["Dòng / Line", "Quy tắc / Rule", "Nội dung", "Finding"]
        rows = [([f["plan_id"]] if several else []) + [f["source_line"] or "", f"`{f['rule_id']}`",
                                                       f["message_vi"], f["message_en"]] for f in chosen]
        lines += ["", f"### {vi} / {en} ({total})", "", *_table(header, rows)]
        if total > len(chosen):
            lines += ["", " / ".join(more_findings(total - len(chosen)))]
    clean = [r for r in ran if r["findings"] == 0]
    if clean:
        lines += ["", "### Không có phát hiện (nhất quán) / No finding (consistent)", ""]
        lines += [f"- `{r['rule_id']}`: {r['title_vi']} / {r['title_en']}" for r in clean]
    skipped = [r for r in rules if r["status"] == "skipped"]
    if skipped:
        lines += ["", "### Bỏ qua (thiếu bảng) / Skipped (a table is missing)", ""]
        lines += [f"- `{r['rule_id']}` ({r['resources']}): {titles[r['rule_id']]['title_en']}" for r in skipped]
    return lines


def _database() -> list[str]:
    version = duckdb_version()
    return [
        "## Cơ sở dữ liệu DuckDB / The DuckDB database", "",
        f"`{DATABASE_FILE}` được tạo bởi DuckDB {version}, định dạng lưu trữ {STORAGE_VERSION} (mở được bằng "
        f"DuckDB {OLDEST_READER} trở lên). / Written by DuckDB {version} in storage format {STORAGE_VERSION} "
        f"(opens in DuckDB {OLDEST_READER} or later).", "",
        "```sh",
        f"duckdb -readonly {DATABASE_FILE}",
        "```",
        "```python",
        f"import duckdb; con = duckdb.connect('{DATABASE_FILE}', read_only=True)",
        "con.sql('SELECT * FROM budget_by_pillar_level').show()",
        "```", "",
        "- Bảng / tables: một bảng cho mỗi tài nguyên, có khóa chính và khóa ngoại / one per resource, with primary "
        "and foreign keys; `meta_columns`, `meta_resources`: mô tả cột song ngữ / bilingual column documentation; "
        "`meta_package`; `meta_sql`: SQL của các view và quy tắc kiểm tra / SQL of the views and audit rules.",
        "- View (mỗi view một câu / one sentence each):",
        *[f"  - `{name}`: {vi} / {en}" for name, vi, en in reader_views()],
        "  - `audit_*`: các view mà quy tắc kiểm tra dùng / the views the audit rules use.",
    ]


def reader_views() -> list[tuple[str, str, str]]:
    """(name, Vietnamese sentence, English sentence) of every view for readers in ``views.sql``: its
    comment, English first, then Vietnamese after 'vi:' (the audit's own views are left out)."""
    found = []
    for comment, name in re.findall(r"((?:^--[^\n]*\n)+)CREATE OR REPLACE VIEW (\w+)", VIEWS_SQL.read_text(
            encoding="utf-8"), flags=re.M):
        if name.startswith("audit_"):
            continue
        text = " ".join(line.removeprefix("--").strip() for line in comment.splitlines())
        en, _, vi = text.partition(" vi: ")
        found.append((name, vi.strip(), en.strip()))
    return found


def _loading(tables: Tables) -> list[str]:
    return [
        "## Đọc dữ liệu an toàn / Loading the data safely", "",
        "**Cảnh báo:** đọc CSV mà để phần mềm tự đoán kiểu (pandas `read_csv`, DuckDB `read_csv_auto`, mở bằng Excel) "
        "sẽ biến mã số như `2.10` thành số 2.1, nên phép nối bảng (ví dụ `budget_lines` với `budget_items`) ra sai số "
        "dòng và sai tổng tiền mà không báo lỗi; Excel trên Windows còn hiển thị sai tiếng Việt trong CSV UTF-8 không "
        "có BOM. / **Warning:** reading the CSV files with type guessing (pandas `read_csv`, DuckDB `read_csv_auto`, "
        "opening them in Excel) turns codes like `2.10` into the number 2.1, so joins (e.g. `budget_lines` to "
        "`budget_items`) silently give wrong row counts and totals; Excel on Windows also garbles Vietnamese in "
        "BOM-less UTF-8 CSV. Đọc theo một trong các cách sau / Load it one of these ways:", "",
        "```python",
        f"import pandas as pd; pd.read_parquet('{DATA_DIR}/budget_lines.parquet', dtype_backend='pyarrow')  "
        "# typed: exact decimals, dates (.dt works)",
        f"import pandas as pd; pd.read_csv('{DATA_DIR}/budget_lines.csv', dtype=str)      # every column as text",
        "```",
        "```sql",
        f"SELECT * FROM read_csv('{DATA_DIR}/budget_lines.csv', all_varchar=true);  -- DuckDB: every column as text",
        f"ATTACH '{DATABASE_FILE}' (READ_ONLY); SELECT * FROM kehoach.budget_lines;  -- DuckDB: typed tables",
        "```", "",
        _spreadsheet(tables),
    ]


def _spreadsheet(tables: Tables) -> str:
    if not workbook_wanted(tables):
        return ("Gói này quá lớn cho một sổ tính Excel: mỗi kế hoạch có tập dữ liệu riêng kèm sổ tính. / This package "
                "is too large for an Excel workbook: each plan's own dataset has one.")
    return (f"Người dùng bảng tính: mở `{WORKBOOK_FILE}` (mã số dạng văn bản, số tiền dạng số, trang `codebook` mô tả "
            f"từng cột). / Spreadsheet users: open `{WORKBOOK_FILE}` (codes as text, money as numbers, a `codebook` "
            "sheet describing every column).")


def _citing(tables: Tables, extra: dict) -> list[str]:
    if not extra.get("homepage"):
        return []
    return ["## Trích dẫn / How to cite", "",
            f"Xin trích dẫn / Please cite (`{CITATION_FILE}`, Citation File Format):", "",
            f"> {recommended(tables, extra)}"]


def render_readme(tables: Tables, extra: dict | None = None,
                  published: dict[str, tuple[str, str]] | None = None) -> str:
    parts = [_title(tables, published or {}), _files(tables), _loading(tables), _citing(tables, extra or {}),
             _audit(tables), _database()]
    return "\n\n".join("\n".join(p) for p in parts if p) + "\n"


def stage_readme(tables: Tables, directory: Path, extra: dict) -> list[dict]:
    """Stage hook: write README.md at the root of the staged package."""
    published = {f: published_at(directory, f) for f in tables["plans"].column("source_file").to_pylist() if f}
    (directory / README_FILE).write_text(render_readme(tables, extra, published), encoding="utf-8")
    return [file_resource(directory, README_FILE, README_RESOURCE, format="md", mediatype="text/markdown",
                          title="About this package and its consistency audit",
                          title_vi="Giới thiệu gói dữ liệu và kết quả kiểm tra tính nhất quán")]
