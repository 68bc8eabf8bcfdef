"""A synthetic corpus: copies of a real plan, renumbered, with amounts varied.

Used by the benchmark (``scripts/benchmark.py``) and by the fan-out tests.
Copies are made from the document's structure, never from line numbers:

- the plan's own number is read from its ``Số: …`` line and every mention
  of it is replaced by a new one (so each copy is a distinct plan with a
  distinct ``plan_id``);
- in the tables under a unit line (``ĐVT: …``), every cell that is an
  amount (optionally after a label such as ``Tổng:``) is multiplied by a
  small integer that depends on the copy, so stated totals stay consistent.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

NUMBER_LINE = re.compile(r"^Số:\s*(\d+)(/[^|\s]+)", re.MULTILINE)
UNIT_LINE = re.compile(r"^ĐVT\s*:", re.IGNORECASE)
# "800", "17.017", "256.785,7": Vietnamese thousands dots and decimal comma,
# optionally after a label ending in a colon ("Tổng: 256.785,7").
AMOUNT_CELL = re.compile(r"^(\s*(?:[^\d|:]*:\s*)?)(\d{1,3}(?:\.\d{3})*(?:,\d+)?)(\s*)$")
FIRST_NUMBER = 20000


def _vn_amount(text: str) -> Decimal:
    return Decimal(text.replace(".", "").replace(",", "."))


def _vn_format(value: Decimal, decimals: int) -> str:
    whole, _, fraction = f"{value:.{decimals}f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"{grouped},{fraction}" if decimals else grouped


def _scale_cell(cell: str, factor: int) -> str:
    m = AMOUNT_CELL.match(cell)
    if not m:
        return cell
    decimals = len(m[2].partition(",")[2])
    return f"{m[1]}{_vn_format(_vn_amount(m[2]) * factor, decimals)}{m[3]}"


def _scale_row(line: str, factor: int) -> str:
    cells = line.split("|")
    # the first cell is the row's numbering (or empty on a continuation line)
    return "|".join([cells[0], *(_scale_cell(c, factor) for c in cells[1:])])


def variant(text: str, index: int) -> str:
    """Copy ``index`` of the plan ``text``: number ``FIRST_NUMBER + index``,
    amounts multiplied by ``1 + index % 7``."""
    m = NUMBER_LINE.search(text)
    if not m:
        raise ValueError("no 'Số: …' line: not a plan text")
    own, new = m[1] + m[2], f"{FIRST_NUMBER + index}{m[2]}"
    factor = 1 + index % 7
    lines, in_units = [], False
    for line in text.split("\n"):
        in_units = in_units or bool(UNIT_LINE.match(line))
        lines.append(_scale_row(line, factor) if in_units and "|" in line and factor != 1 else line)
    return re.sub(rf"(?<!\d){re.escape(own)}", new, "\n".join(lines))


def write_corpus(plan: Path, directory: Path, count: int) -> list[Path]:
    """Write ``count`` copies of ``plan`` into ``directory`` (plan-00000.txt, …)."""
    directory.mkdir(parents=True, exist_ok=True)
    text = plan.read_text(encoding="utf-8")
    paths = []
    for i in range(count):
        path = directory / f"plan-{i:05d}.txt"
        path.write_text(variant(text, i), encoding="utf-8")
        paths.append(path)
    return paths


def amend(path: Path) -> None:
    """Amend the plan text at ``path`` as a plan is amended: its first row of
    amounts under a unit line doubled (the same plan, one changed row)."""
    lines, in_units = path.read_text(encoding="utf-8").split("\n"), False
    for i, line in enumerate(lines):
        in_units = in_units or bool(UNIT_LINE.match(line))
        if in_units and "|" in line and (scaled := _scale_row(line, 2)) != line:
            lines[i] = scaled
            path.write_text("\n".join(lines), encoding="utf-8")
            return
    raise ValueError(f"{path}: no row of amounts under a unit line")
