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

from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

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
CODEBOOK_HEADER = ["table", "column", "title_vi", "title_en", "description_vi", "description_en", "type", "unit"]
BOLD = Font(bold=True)
# Beyond a million cells (about a hundred plans) a workbook takes minutes to
# write (openpyxl: ~20 µs a cell) and is no longer usable in a spreadsheet.
MAX_CELLS = 1_000_000


def cell_value(value: Any) -> Any:
    """What openpyxl stores: Decimals as they are (written exactly), datetimes without a time zone."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def _number_format(field: dict) -> str | None:
    kind = field.get("type")
    if kind == "number":
        return MONEY_FORMAT
    if kind == "integer":
        return INTEGER_FORMAT
    if kind == "date":
        return DATE_FORMAT
    return None


def _bold_row(ws, values: list[Any]) -> list[WriteOnlyCell]:
    cells = [WriteOnlyCell(ws, value=v) for v in values]
    for cell in cells:
        cell.font = BOLD
    return cells


def _header(ws, names: list[str]) -> None:
    ws.freeze_panes = "A2"
    ws.append(_bold_row(ws, names))


def _table_sheet(wb: Workbook, name: str, tables: Tables) -> None:
    """One sheet, streamed (write-only: a corpus's tables are not held as cell objects)."""
    ws = wb.create_sheet(name[:31])
    fields = load_schema(name)["fields"]
    table = tables[name]
    formats = [_number_format(f) for f in fields]
    for index, fmt in enumerate(formats, 1):
        ws.column_dimensions[get_column_letter(index)].width = 14 if fmt else 24
    if table.num_rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(fields))}{table.num_rows + 1}"
    _header(ws, [f["name"] for f in fields])
    for batch in table.select([f["name"] for f in fields]).to_batches(max_chunksize=65536):
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        for row in zip(*columns, strict=True):
            ws.append([_cell(ws, cell_value(v), fmt) for v, fmt in zip(row, formats, strict=True)])


def _cell(ws, value: Any, fmt: str | None) -> Any:
    if fmt is None or value is None:
        return value
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = fmt
    return cell


def _codebook(wb: Workbook, names: list[str]) -> None:
    ws = wb.create_sheet(CODEBOOK_SHEET)
    _header(ws, CODEBOOK_HEADER)
    for letter, width in zip("ABCDEFGH", (24, 24, 32, 32, 60, 60, 10, 14), strict=True):
        ws.column_dimensions[letter].width = width
    for name in names:
        meta = resource_meta(name)
        ws.append([name, "", meta["title_vi"], meta["title"], meta["description_vi"], meta["description"], "table",
                   ""])
        for f in load_schema(name)["fields"]:
            ws.append([name, f["name"], f.get("title_vi", ""), f.get("title", ""), f.get("description_vi", ""),
                       f.get("description", ""), f.get("type", "any"), f.get("unit", "")])


def _about(wb: Workbook, extra: dict, names: list[str]) -> None:
    ws = wb.create_sheet(ABOUT_SHEET)
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
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 100
    for label, value in rows:
        ws.append([*_bold_row(ws, [label]), value])


def write_workbook(tables: Tables, path: Path, extra: dict) -> None:
    names = [n for n in resource_names() if n in tables]
    wb = Workbook(write_only=True)
    _about(wb, extra, names)
    for name in names:
        _table_sheet(wb, name, tables)
    _codebook(wb, names)
    # Fixed document dates: the same tables give the same workbook content.
    created = extra.get("created")
    if created:
        stamp = datetime.fromisoformat(created.replace("Z", "+00:00")).replace(tzinfo=None)
        wb.properties.created = wb.properties.modified = stamp
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


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

