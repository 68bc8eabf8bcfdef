"""The Excel workbook shipped with the package (``data/kehoach.xlsx``), for spreadsheet users.

Opening the CSV files in Excel types them naively: a code like ``2.10`` becomes
the number 2.1 (and joins on it silently go wrong), and BOM-less UTF-8 shows
Vietnamese as mojibake on Windows. The workbook is typed from the Table Schemas
instead: one sheet per table, every ``string`` field (codes, numbering, ids)
stored as text, money as numbers written from the exact Decimal with a number
format showing its decimals, dates as dates, integers as integers. A first
sheet (``about``) says what the workbook is, and a ``codebook`` sheet gives
every column's title, description, type and unit in Vietnamese and English.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from kehoach.core.model import Tables, load_schema, resource_meta, resource_names
from kehoach.package.layout import DATA_DIR
from kehoach.package.writer import ESTIMATES_EN, ESTIMATES_VI, file_resource

WORKBOOK_FILE = f"{DATA_DIR}/kehoach.xlsx"
WORKBOOK_RESOURCE = "workbook"
CODEBOOK_SHEET = "codebook"
ABOUT_SHEET = "about"
MONEY_FORMAT = "#,##0.0#####"  # at least one decimal, up to the six the schemas allow
INTEGER_FORMAT = "0"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
CODEBOOK_HEADER = ["table", "column", "title_vi", "title_en", "description_vi", "description_en", "type", "unit"]
# Beyond a million cells (about a hundred plans) a workbook takes long to
# write and is no longer usable in a spreadsheet.
MAX_CELLS = 1_000_000
FORMATS = {"number": MONEY_FORMAT, "integer": INTEGER_FORMAT, "date": DATE_FORMAT, "datetime": DATETIME_FORMAT}


def cell_value(value: Any) -> Any:
    """What the workbook stores: datetimes without a time zone (Excel has none)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


class _Writer:
    """One workbook, written row by row (XlsxWriter's constant-memory mode: a
    corpus's tables are not held as cell objects; one plan's sheets take a
    tenth of a second)."""

    def __init__(self, path: Path) -> None:
        self.book: Workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                                               "strings_to_formulas": False, "strings_to_urls": False})
        self.bold = self.book.add_format({"bold": True})
        self.formats = {kind: self.book.add_format({"num_format": fmt}) for kind, fmt in FORMATS.items()}

    def sheet(self, name: str, header: list[str] | None, widths: list[float]) -> Worksheet:
        ws = self.book.add_worksheet(name[:31])
        for index, width in enumerate(widths):
            ws.set_column(index, index, width)
        if header is not None:
            ws.freeze_panes(1, 0)
            ws.write_row(0, 0, header, self.bold)
        return ws

    def cell(self, ws: Worksheet, row: int, col: int, value: Any, kind: str | None) -> None:
        """A typed cell: text stays text (codes like 2.10), money a number from the exact Decimal."""
        if value is None:
            return
        if isinstance(value, str):
            ws.write_string(row, col, value)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value)
        elif isinstance(value, date):
            ws.write_datetime(row, col, cell_value(value), self.formats.get(kind or "date", self.formats["date"]))
        elif isinstance(value, int | float | Decimal):
            ws.write_number(row, col, value, self.formats.get(kind or ""))
        else:
            ws.write_string(row, col, str(value))


def _table_sheet(w: _Writer, name: str, tables: Tables) -> None:
    """One sheet, streamed row by row."""
    fields = load_schema(name)["fields"]
    table = tables[name]
    kinds = [f.get("type") if f.get("type") in FORMATS else None for f in fields]
    ws = w.sheet(name, [f["name"] for f in fields], [14 if k else 24 for k in kinds])
    if table.num_rows:
        ws.autofilter(0, 0, table.num_rows, len(fields) - 1)
    row = 1
    for batch in table.select([f["name"] for f in fields]).to_batches(max_chunksize=65536):
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        for values in zip(*columns, strict=True):
            for col, (value, kind) in enumerate(zip(values, kinds, strict=True)):
                w.cell(ws, row, col, value, kind)
            row += 1


def _codebook(w: _Writer, names: list[str]) -> None:
    ws = w.sheet(CODEBOOK_SHEET, CODEBOOK_HEADER, [24, 24, 32, 32, 60, 60, 10, 14])
    row = 1
    for name in names:
        meta = resource_meta(name)
        rows = [[name, "", meta["title_vi"], meta["title"], meta["description_vi"], meta["description"], "table",
                 ""]]
        rows += [[name, f["name"], f.get("title_vi", ""), f.get("title", ""), f.get("description_vi", ""),
                  f.get("description", ""), f.get("type", "any"), f.get("unit", "")]
                 for f in load_schema(name)["fields"]]
        for values in rows:
            for col, value in enumerate(values):
                if value:
                    ws.write_string(row, col, value)
            row += 1


def _about(w: _Writer, extra: dict, names: list[str]) -> None:
    ws = w.sheet(ABOUT_SHEET, None, [28, 100])
    rows = [
        ("Gói dữ liệu / Package", extra.get("name", "")),
        ("Tiêu đề", extra.get("title_vi", "")),
        ("Title", extra.get("title_en", "")),
        ("Phiên bản / Version", extra.get("version", "")),
        ("Địa chỉ / URL", extra.get("homepage", "")),
        ("Đơn vị tiền / Money unit", "triệu đồng / million VND"),
        ("Khái toán", ESTIMATES_VI),
        ("Estimates", ESTIMATES_EN),
        ("Mã số / Codes", "Mã (ví dụ 2.10) lưu dạng văn bản, không phải số. / Codes (e.g. 2.10) are text, "
                          "not numbers."),
        ("Bảng / Tables", ", ".join(names)),
        ("Mô tả cột / Columns", f"sheet '{CODEBOOK_SHEET}'"),
    ]
    for row, (label, value) in enumerate(rows):
        ws.write_string(row, 0, label, w.bold)
        if value:
            ws.write_string(row, 1, str(value))


def write_workbook(tables: Tables, path: Path, extra: dict) -> None:
    names = [n for n in resource_names() if n in tables]
    path.parent.mkdir(parents=True, exist_ok=True)
    w = _Writer(path)
    # Fixed document dates: the same tables give the same workbook content.
    created = extra.get("created")
    if created:
        w.book.set_properties({"created": datetime.fromisoformat(created.replace("Z", "+00:00")).replace(tzinfo=None)})
    _about(w, extra, names)
    for name in names:
        _table_sheet(w, name, tables)
    _codebook(w, names)
    w.book.close()


def workbook_wanted(tables: Tables) -> bool:
    """A workbook is for reading a plan in a spreadsheet: a corpus of many
    plans (over ``MAX_CELLS`` cells) ships none, its plans' datasets do."""
    return sum(t.num_rows * t.num_columns for t in tables.values()) <= MAX_CELLS


def stage_workbook(tables: Tables, directory: Path, extra: dict) -> list[dict]:
    """Stage hook: write ``data/kehoach.xlsx`` into the staging directory (when wanted)."""
    if not workbook_wanted(tables):
        return []
    write_workbook(tables, directory / WORKBOOK_FILE, extra)
    return [file_resource(
        directory, WORKBOOK_FILE, WORKBOOK_RESOURCE, format="xlsx",
        mediatype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        title="Excel workbook: every table typed, with a codebook",
        title_vi="Sổ tính Excel: mọi bảng đúng kiểu dữ liệu, kèm bảng mô tả cột",
        description=("One sheet per table: codes (e.g. 2.10) as text, money as exact numbers in million VND, dates "
                     "as dates; sheet 'codebook' describes every column (vi/en). Open this rather than the CSV "
                     "files in a spreadsheet."),
        description_vi=("Mỗi bảng một trang tính: mã số (ví dụ 2.10) dạng văn bản, số tiền dạng số chính xác "
                        "(triệu đồng), ngày dạng ngày; trang 'codebook' mô tả từng cột (Việt/Anh). Nên mở tệp này "
                        "thay cho các tệp CSV trong phần mềm bảng tính."),
    )]

