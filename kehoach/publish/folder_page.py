"""The portal folder's front page, ``index.html``: the catalogue as a page.

Served as it is (``python -m http.server -d portal``), the portal showed a bare
directory listing. The page lists every current dataset with its titles (vi,
en), version, the date of that version, a link to its folder (the dataset's
landing page) and its ZIP; withdrawn datasets follow, with the date and reason.
Static: inline CSS, no script, no network. Made from ``catalog.json``'s entries
(``kehoach.publish.folder_catalog``), so it changes when they do.
"""

from __future__ import annotations

from datetime import date
from html import escape

from kehoach.core.display import format_date, format_number

PAGE = "index.html"

STYLE = """
body { margin: 0 auto; max-width: 1100px; padding: 16px; font: 15px/1.5 "Noto Sans", "DejaVu Sans", Arial, sans-serif;
       color: #1b1b1b; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 6px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.en { color: #555; }
"""


def _day(iso: str, lang: str) -> str:
    try:
        return format_date(date.fromisoformat(iso[:10]), lang)
    except ValueError:
        return iso


def _row(entry: dict) -> str:
    name, archive = str(entry["name"]), entry.get("zip") or {}
    title_vi, title_en = str(entry.get("title_vi") or entry.get("title") or name), str(entry.get("title_en") or "")
    size = int(archive.get("bytes") or 0)
    download = (f'<a href="{escape(str(archive["path"]))}">ZIP</a> ({format_number(size // 1000 or 1, "vi")} kB)'
                if archive.get("path") else "")
    return (f'<tr class="dataset"><td><a href="{escape(name)}/">{escape(title_vi)}</a>'
            f'<br><span class="en">{escape(title_en)}</span><br><code>{escape(name)}</code></td>'
            f'<td>{escape(str(entry.get("version") or ""))}</td>'
            f'<td class="num">{escape(_day(str(entry.get("created") or ""), "vi"))}</td><td>{download}</td></tr>')


def _withdrawn(records: list[dict]) -> str:
    if not records:
        return ""
    items = "".join(f'<li><a href="{escape(str(r["name"]))}/">{escape(str(r["name"]))}</a> '
                    f'{escape(str(r.get("version") or ""))}: {escape(str(r.get("reason_vi") or ""))} '
                    f'<span class="en">/ {escape(str(r.get("reason") or ""))}</span> '
                    f'({escape(_day(str(r.get("withdrawn") or ""), "vi"))})</li>' for r in records)
    return f'<h2>Đã rút <span class="en">/ Withdrawn</span></h2><ul id="withdrawn">{items}</ul>'


def render_page(datasets: list[dict], withdrawn: list[dict]) -> bytes:
    """The page for the catalogue's current ``datasets`` and its ``withdrawn`` records."""
    empty = '<tr><td colspan="4">Chưa có tập dữ liệu nào. / No dataset yet.</td></tr>'
    rows = "".join(_row(e) for e in datasets) or empty
    html = f"""<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dữ liệu mở kế hoạch / kehoach open data</title>
<style>{STYLE}</style>
</head>
<body>
<h1>Dữ liệu mở kế hoạch <span class="en">/ kehoach open data</span></h1>
<p>{format_number(len(datasets), "vi")} tập dữ liệu, mỗi tập có trang giới thiệu, tệp CSV, Parquet, DuckDB và ZIP.
<span class="en">/ {format_number(len(datasets), "en")} datasets, each with its landing page, CSV, Parquet, DuckDB
and ZIP files.</span> Danh mục máy đọc / machine-readable catalogue:
<a href="catalog.json">catalog.json</a>, <a href="catalog.jsonld">catalog.jsonld</a> (DCAT-AP 3.0).</p>
<table id="datasets">
<thead><tr><th>Tập dữ liệu <span class="en">/ Dataset</span></th><th>Phiên bản <span class="en">/ Version</span></th>
<th>Ngày <span class="en">/ Date</span></th><th>Tải về <span class="en">/ Download</span></th></tr></thead>
<tbody>{rows}</tbody>
</table>
{_withdrawn(withdrawn)}
</body>
</html>
"""
    return html.encode("utf-8")
