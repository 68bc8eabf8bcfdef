"""The columns of a table, rebuilt from its header rows and the header vocabulary.

Columns are identified from the words of their header (``reference/table_headers.csv``),
never from their position. Two ways of writing a multi-row header are met:

- colspans *padded at the end* of the row (the sites' encoding of ``raw/``):
  ``TT | Nội dung | Kinh phí | Cơ quan chủ trì | |||`` and the sub-labels on the
  next rows; which label spans is known from the vocabulary (``can_span``);
- colspans *in place* (markdown crawls): an empty header cell continues the
  label to its left (``| STT |  | Tên văn bản | … | Cấp trình |  |  |``); the
  next row is either as wide as the table, each sub-label under its column, or
  a short row of sub-labels read in order under the spanning labels (an empty
  sub-cell again continues the label to its left).

A label read by OCR (``ocr_lines``: the lines of the text OCR read) that no
pattern matches is matched again with its accents folded away on both sides
(``fold``: 'Nội dụng nhiệm vụ' → 'noi dung nhiem vu'): tesseract misreads a
tone or a vowel's mark far more often than a letter, and letters are what
tell two labels apart. No similarity ratio: 'Năm 2024' and 'Năm 2025' are
91 % alike and must stay two columns. A column found so is ``tolerated``: the
rows of its table are flagged for review (``kehoach/read/provenance.py``).
A text not read by OCR is matched exactly, as ever.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from kehoach.core.errors import KehoachError
from kehoach.core.text import clean, fold, key
from kehoach.core.vocabularies import vocabulary

# Roles whose value is a dimension of the columns under a spanning label, not the column's role.
_DIMENSIONS = ("budget_level", "expenditure_type", "year", "level")


@dataclass(frozen=True)
class HeaderRule:
    pattern: re.Pattern[str]
    role: str
    value: str
    can_span: bool
    folded: re.Pattern[str]  # the pattern without accents, for a label read by OCR


@cache
def header_rules() -> tuple[HeaderRule, ...]:
    return tuple(
        HeaderRule(re.compile(r["pattern"]), r["role"], r["value"], r["can_span"] == "yes",
                   re.compile(fold(r["pattern"])))
        for r in vocabulary("table_headers")
    )


def classify_label(label: str, tolerant: bool = False) -> tuple[HeaderRule, re.Match[str]] | None:
    """The rule the label matches; with ``tolerant`` (a label read by OCR), failing that, the rule its
    accent-folded form matches."""
    k = key(label)
    for rule in header_rules():
        m = rule.pattern.search(k)
        if m:
            return rule, m
    if not tolerant:
        return None
    folded = fold(k)
    for rule in header_rules():
        m = rule.folded.search(folded)
        if m:
            return rule, m
    return None


@dataclass
class Column:
    """A leaf column with the attributes gathered from its header path.

    ``attrs`` holds e.g. {'role': 'amount', 'budget_level': 'province',
    'expenditure_type': 'recurrent'} for 'Kinh phí > Ngân sách tỉnh > CTX'.
    """

    index: int
    labels: tuple[str, ...]
    attrs: dict[str, str] = field(default_factory=dict)
    tolerated: bool = False  # a label on its path was matched only with its accents folded (read by OCR)

    @property
    def role(self) -> str:
        return self.attrs["role"]


@dataclass
class _Node:
    label: str
    line: int
    attrs: dict[str, str]
    can_span: bool
    children: list[_Node] = field(default_factory=list)
    tolerated: bool = False


def _node(label: str, line: int, path: str, ocr_lines: frozenset[int] = frozenset()) -> _Node:
    found = classify_label(label, tolerant=line in ocr_lines)
    if not found:
        raise KehoachError(
            f"unknown column header {label!r} (add it to reference/table_headers.csv)", path, line
        )
    rule, m = found
    attrs: dict[str, str] = {}
    if rule.role in _DIMENSIONS:
        # A submission level is named by its own label ('Chính phủ', 'TTg CP'), as written.
        attrs[rule.role] = (m.expand(rule.value) if rule.value else "") or clean(label)
    elif rule.role == "amounts":
        attrs["role"] = "amount"
    else:
        attrs["role"] = rule.role
    return _Node(clean(label), line, attrs, rule.can_span,
                 tolerated=line in ocr_lines and not rule.pattern.search(key(label)))


def _leaf(index: int, nodes: list[_Node]) -> Column:
    attrs: dict[str, str] = {}
    for node in nodes:
        attrs.update(node.attrs)
    attrs.setdefault("role", "amount")  # a leaf under an amounts header is an amount
    return Column(index, tuple(n.label for n in nodes), attrs, any(n.tolerated for n in nodes))


def build_columns(header_rows: list[tuple[int, list[str]]], width: int, path: str,
                  ocr_lines: frozenset[int] = frozenset()) -> list[Column]:
    """Leaf columns from header rows (each a (line, cells) pair), colspans padded at the end.

    Later header rows hold only the sub-labels of the spanning labels above
    them (rowspans are omitted, colspans padded at the end), so each row's
    labels are shared out, in order and evenly, among the spanning labels of
    the row above.
    """
    roots = [_node(c, header_rows[0][0], path, ocr_lines) for c in header_rows[0][1] if c]
    parents = roots
    for line, cells in header_rows[1:]:
        labels = [c for c in cells if c]
        spanning = [n for n in parents if n.can_span]
        if not spanning or len(labels) % len(spanning):
            raise KehoachError(
                f"header row has {len(labels)} labels that cannot be placed under "
                f"{len(spanning)} spanning headers",
                path,
                line,
            )
        per = len(labels) // len(spanning)
        children = [_node(lab, line, path, ocr_lines) for lab in labels]
        for i, parent in enumerate(spanning):
            parent.children = children[i * per:(i + 1) * per]
        parents = children

    leaves: list[Column] = []

    def walk(node: _Node, above: list[_Node]) -> None:
        if node.children:
            for child in node.children:
                walk(child, [*above, node])
            return
        leaves.append(_leaf(len(leaves), [*above, node]))

    for root in roots:
        walk(root, [])
    if len(leaves) != width:
        raise KehoachError(
            f"header labels describe {len(leaves)} columns but its first row has {width} cells",
            path,
            header_rows[0][0],
        )
    return distinct_amounts(leaves, path, header_rows[-1][0])


def distinct_amounts(columns: list[Column], path: str, line: int) -> list[Column]:
    """Refuse a header naming one amount twice ('Năm 2024' over two columns): which would count?"""
    seen: dict[tuple, Column] = {}
    for column in columns:
        if column.attrs.get("role") != "amount":
            continue
        key = tuple(sorted(column.attrs.items()))
        if key in seen:
            raise KehoachError(f"header names the amount column {' > '.join(column.labels)!r} twice "
                               f"(columns {seen[key].index + 1} and {column.index + 1})", path, line)
        seen[key] = column
    return columns


def spans_in_place(cells: list[str]) -> bool:
    """Whether a header row's empty cells sit between its labels (colspans written in place)."""
    last = max((i for i, c in enumerate(cells) if c), default=-1)
    return any(not c for c in cells[:last])


def spanned_columns(cells: list[str]) -> set[int]:
    """Columns of a header row written in place that lie under a label spanning several columns."""
    out: set[int] = set()
    for start, end in _runs(cells):
        if end - start > 1:
            out.update(range(start, end))
    return out


def _runs(cells: list[str]) -> list[tuple[int, int]]:
    """(start, end) of each label with the empty cells after it; leading empty cells form their own run."""
    runs: list[tuple[int, int]] = []
    for i, c in enumerate(cells):
        if c or not runs:
            runs.append((i, i + 1))
        else:
            runs[-1] = (runs[-1][0], i + 1)
    return runs


def build_columns_in_place(header_rows: list[tuple[int, list[str]]], width: int, path: str) -> list[Column]:
    """Leaf columns from header rows whose colspans are written in place (an empty cell continues its left)."""
    line, first = header_rows[0]
    cells = (first + [""] * width)[:width]
    if not cells[0]:
        raise KehoachError("the first header cell is empty", path, line)
    paths: list[list[_Node]] = [[] for _ in range(width)]
    for start, end in _runs(cells):
        node = _node(cells[start], line, path)
        for i in range(start, end):
            paths[i].append(node)
    for line, row in header_rows[1:]:
        _place_sub_labels(paths, row, width, line, path)
    return distinct_amounts([_leaf(i, nodes) for i, nodes in enumerate(paths)], path, header_rows[-1][0])


def _place_sub_labels(paths: list[list[_Node]], row: list[str], width: int, line: int, path: str) -> None:
    """Add one header row's sub-labels to the column paths.

    A row as wide as the table puts each sub-label under its own column; a short
    row's labels go in order onto the columns of the spanning labels. In either,
    an empty sub-cell continues the sub-label to its left within the same span,
    and the first column of a span with no sub-label is the spanning label itself.
    """
    groups = _spans(paths)
    if len(row) >= width:
        slots = {i: row[i] for i in range(width)}
    else:
        labels = [c for c in row if c]
        open_columns = [i for start, end in groups if end - start > 1 for i in range(start, end)]
        if len(labels) > len(open_columns):
            raise KehoachError(f"header row has {len(labels)} labels for {len(open_columns)} spanned columns",
                               path, line)
        slots = dict(zip(open_columns, labels, strict=False))
    for start, end in groups:
        current: _Node | None = None
        for i in range(start, end):
            text = slots.get(i, "")
            if text and end - start == 1 and len(row) >= width:
                raise KehoachError(f"header cell {text!r} sits under a column that does not span", path, line)
            if text:
                current = _node(text, line, path)
            if current is not None:
                paths[i].append(current)


def _spans(paths: list[list[_Node]]) -> list[tuple[int, int]]:
    """Runs of columns sharing the same header path so far."""
    runs: list[tuple[int, int]] = []
    for i, nodes in enumerate(paths):
        if runs and [id(n) for n in paths[runs[-1][0]]] == [id(n) for n in nodes]:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return runs
