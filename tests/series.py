"""A plan series made from the plan in ``raw/``: next year's plan, and the one
after the 2025 reorganisation, each citing the plan it follows.

Made from the document's structure, never from line numbers: the task table is
the appendix whose header names the task ('Tên nhiệm vụ'); a row starts with its
number ('3.2 | …') and runs to the next row; a group row has a number without a
dot. ``next_year`` returns the new text and what it did to the tasks (the truth
the lineage is measured against). Used by the series tests and ``make bench``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

NUMBER_LINE = re.compile(r"^Số:\s*(\d+)(/[^|\s]+)", re.MULTILINE)
DATE_LINE = re.compile(r"ngày (\d{1,2}) tháng (\d{1,2}) năm (\d{4})")
ROW = re.compile(r"^(\d+(?:[. ]\d+)*)\s*\|")  # '9 2 |' is read as 9.2, as the parser reads it
APPENDIX = re.compile(r"^PHỤ LỤC\b", re.IGNORECASE)
DMY = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])")
LISTED = re.compile(r"^- (\d+) ")
YEAR_WORD = re.compile(r"\b(năm|NĂM) (\d{4})\b")

# Tasks a next-year plan adds: none is like a task of the plan in raw/.
NEW_TASKS = (
    "Thí điểm ứng dụng trí tuệ nhân tạo tạo sinh trong soạn thảo văn bản hành chính",
    "Xây dựng bản đồ số du lịch biển đảo Lý Sơn tích hợp thuyết minh tự động đa ngôn ngữ",
    "Cấp chữ ký số chuyên dùng miễn phí cho hộ kinh doanh cá thể khi đăng ký thuế điện tử",
)
# How a reworded task's name changes (each a way plans reword a carried-over task).
REWORDINGS = (
    lambda n: "Tiếp tục " + n[:1].lower() + n[1:],
    lambda n: n + " trên địa bàn tỉnh",
    lambda n: "Thực hiện " + n[:1].lower() + n[1:],
    lambda n: n.rsplit(";", 1)[0] if ";" in n else n + " của các cơ quan, đơn vị",
    lambda n: "Hoàn thành " + n[:1].lower() + n[1:],
)
RENAMES = (("Sở TT&TT", "Sở KH&CN"), ("Sở Thông tin và Truyền thông", "Sở Khoa học và Công nghệ"),
           ("Sở KH&ĐT", "Sở Tài chính"), ("Sở Kế hoạch và Đầu tư", "Sở Tài chính"))


@dataclass
class Truth:
    """What a next-year plan did to the tasks: new code -> old code of each continued task,
    and the old codes dropped and new codes added."""

    continued: dict[str, str] = field(default_factory=dict)
    reworded: set[str] = field(default_factory=set)
    dropped: set[str] = field(default_factory=set)
    new: set[str] = field(default_factory=set)


@dataclass
class _Row:
    code: str
    lines: list[str]

    @property
    def is_group(self) -> bool:
        return "." not in self.code


def _task_table(lines: list[str]) -> tuple[int, int]:
    """(first, end) lines of the appendix whose table header names the task."""
    starts = [i for i, line in enumerate(lines) if APPENDIX.match(line)] + [len(lines)]
    for a, b in itertools.pairwise(starts):
        if any("Tên nhiệm vụ" in line for line in lines[a:b]):
            return a, b
    raise ValueError("no task appendix")


def _rows(block: list[str]) -> tuple[list[str], list[_Row]]:
    head, rows = [], []
    for line in block:
        m = ROW.match(line)
        if m:
            rows.append(_Row(m[1].replace(" ", "."), [line]))
        elif rows:
            rows[-1].lines.append(line)
        else:
            head.append(line)
    return head, rows


def _renumber(row: _Row, code: str) -> _Row:
    return _Row(code, [ROW.sub(f"{code} |", row.lines[0], count=1), *row.lines[1:]])


def _rename(row: _Row, name: str) -> _Row:
    cells = row.lines[0].split("|")
    cells[1] = f" {name} "
    return _Row(row.code, ["|".join(cells), *row.lines[1:]])


def _name(row: _Row) -> str:
    return row.lines[0].split("|")[1].strip()


def _shift_dates(text: str, years: int) -> str:
    text = DMY.sub(lambda m: f"{m[1]}/{m[2]}/{int(m[3]) + years}", text)
    return YEAR_WORD.sub(lambda m: f"{m[1]} {int(m[2]) + years}", text)


def _edit_tasks(rows: list[_Row], truth: Truth, edit: bool) -> list[_Row]:
    """Drop the second task of the first three groups of four tasks or more (later tasks of the
    group move up), reword five tasks, add a task at the end of three other groups."""
    groups: list[list[_Row]] = []
    for row in rows:
        if row.is_group:
            groups.append([row])
        else:
            groups[-1].append(row)
    dropping = [g for g in groups if len(g) > 4][:3] if edit else []
    adding = [g for g in groups if g not in dropping and len(g) > 1][:3] if edit else []
    out, reworded = [], 0
    for group in groups:
        out.append(group[0])
        number = group[0].code
        kept = [r for r in group[1:] if not (group in dropping and r is group[2])]
        truth.dropped |= {r.code for r in group[1:] if r not in kept}
        for i, row in enumerate(kept, 1):
            code = f"{number}.{i}"
            moved = _renumber(row, code)
            if edit and reworded < len(REWORDINGS) and i == 1 and group not in dropping:
                moved = _rename(moved, REWORDINGS[reworded](_name(moved)))
                truth.reworded.add(code)
                reworded += 1
            truth.continued[code] = row.code
            out.append(moved)
        if group in adding:
            code = f"{number}.{len(kept) + 1}"
            template = kept[-1]
            out.append(_rename(_renumber(template, code), NEW_TASKS[adding.index(group)]))
            truth.new.add(code)
    return out


def _cite(prefix: str, citation: str) -> str:
    """The site's list of related documents (lines '- N …' before the document) with ``citation``
    added after its last entry, as the sites list the plan a plan follows."""
    lines = prefix.split("\n")
    listed = [i for i, line in enumerate(lines) if LISTED.match(line)]
    end = listed[-1] if listed else -1
    number = int(LISTED.match(lines[end])[1]) + 1 if listed else 1
    return "\n".join([*lines[:end + 1], f"- {number} {citation}", *lines[end + 1:]])


def next_year(text: str, number: int, edit: bool = True, reorganised: bool = False) -> tuple[str, Truth]:
    """The plan of the next year, number ``number``, issued a year later, citing ``text``'s plan;
    with ``edit`` its tasks dropped, reworded and added (see ``_edit_tasks``); ``reorganised``:
    written after the 2025 reorganisation (Sở TT&TT is Sở KH&CN, Sở KH&ĐT Sở Tài chính, the
    district level gone)."""
    own = NUMBER_LINE.search(text)
    old_number = own[1] + own[2]
    year = int(DATE_LINE.search(text)[3])
    # what comes before the document's number line (the site's list of related documents) is kept as it is
    prefix, lines = text[:own.start()], text[own.start():].split("\n")
    first, end = _task_table(lines)
    head, rows = _rows(lines[first:end])
    truth = Truth()
    edited = _edit_tasks(rows, truth, edit)
    body = "\n".join([*lines[:first], *head, *(line for row in edited for line in row.lines), *lines[end:]])
    title = re.search(r"^[A-ZĐ].*\bNĂM \d{4}$", body, re.MULTILINE)[0]
    citation = f"Kế hoạch {old_number} năm {year} về {title[:1]}{title[1:].lower()}"
    body = re.sub(rf"(?<!\d){re.escape(old_number)}", f"{number}{own[2]}", _shift_dates(body, 1))
    text = _cite(prefix, citation) + body
    if reorganised:
        lines = text.split("\n")
        first, end = _task_table(lines)
        table = "\n".join(lines[first:end]).replace("UBND cấp huyện", "UBND cấp xã").replace(
            "cấp xã, cấp xã", "cấp xã").replace("cấp xã,cấp xã", "cấp xã")
        text = "\n".join([*lines[:first], table, *lines[end:]])
        for old, new in RENAMES:
            text = text.replace(old, new)
    return text, truth


def series(text: str, first_number: int = 205) -> list[tuple[str, Truth]]:
    """The plan ``text``, the next year's (edited) and the one after the reorganisation (renamed)."""
    second = next_year(text, first_number)
    third = next_year(second[0], first_number + 1, edit=False, reorganised=True)
    return [(text, Truth()), second, third]


def precision_recall(lineage: list[dict], truth: Truth) -> tuple[float, float]:
    """Of the links the lineage makes (task -> previous task), the share that are true, and of the
    true links (every continued task), the share it makes."""
    made = {(r["task_code"], r["previous_task_code"]) for r in lineage if r["task_code"] and r["previous_task_code"]}
    true = set(truth.continued.items())
    right = len(made & true)
    return (right / len(made) if made else 1.0), (right / len(true) if true else 1.0)
