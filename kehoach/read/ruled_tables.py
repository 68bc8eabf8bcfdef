"""Ruled tables in a page image: the ruling lines, the grid they draw, its cells.

Used by the OCR of scanned pages (``kehoach/read/ocr.py``): the lines are what
stays of the ink after opening it with a long thin kernel (OpenCV); the grid's
edges are where they run; two grid places are one merged cell where no rule
runs between them, and a merge is a rectangle.
"""

from __future__ import annotations

import cv2
import numpy as np

from kehoach.read.page_layout import Grid, GridCell


def rules(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The horizontal and vertical ruling lines: ink that stays after opening with a long thin kernel."""
    height, width = ink.shape
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (width // 30, 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, height // 70)))
    return horizontal, vertical


def ruled_tables(horizontal: np.ndarray, vertical: np.ndarray) -> list[tuple[Grid, list]]:
    """Each ruled table's grid, its cells in pixels (merged where a rule between them is missing)."""
    both = cv2.dilate(horizontal | vertical, np.ones((5, 5), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(both)
    found = []
    for i in range(1, count):
        x, y, w, h, _ = stats[i]
        if w < horizontal.shape[1] // 5 or h < 40:
            continue
        xs = _positions(vertical[y:y + h, x:x + w].sum(axis=0) / 255, 30, x)
        ys = _positions(horizontal[y:y + h, x:x + w].sum(axis=1) / 255, 60, y)
        if len(xs) >= 2 and len(ys) >= 2:
            found.append(_grid(xs, ys, horizontal, vertical))
    return sorted(found, key=lambda g: g[0].top)


def _positions(profile: np.ndarray, least: float, offset: int) -> list[float]:
    at = np.flatnonzero(profile >= least)
    groups: list[list[int]] = []
    for p in at:
        if groups and p - groups[-1][-1] <= 8:
            groups[-1].append(int(p))
        else:
            groups.append([int(p)])
    return [offset + sum(g) / len(g) for g in groups]


def _grid(xs: list[float], ys: list[float], horizontal: np.ndarray, vertical: np.ndarray) -> tuple[Grid, list]:
    # an edge no cell is ruled along is none (a stroke of text long enough to look like a rule)
    ys = [y for k, y in enumerate(ys) if k in (0, len(ys) - 1) or any(
        _ruled(horizontal, int(y), int(xs[c]), int(xs[c + 1]), vertical=False) for c in range(len(xs) - 1))]
    xs = [x for k, x in enumerate(xs) if k in (0, len(xs) - 1) or any(
        _ruled(vertical, int(x), int(ys[r]), int(ys[r + 1]), vertical=True) for r in range(len(ys) - 1))]
    rows, cols = len(ys) - 1, len(xs) - 1
    parent = list(range(rows * cols))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols and not _ruled(vertical, int(xs[c + 1]), int(ys[r]), int(ys[r + 1]), vertical=True):
                parent[find(r * cols + c + 1)] = find(r * cols + c)
            if r + 1 < rows and not _ruled(horizontal, int(ys[r + 1]), int(xs[c]), int(xs[c + 1]), vertical=False):
                parent[find((r + 1) * cols + c)] = find(r * cols + c)
    groups: dict[int, list[tuple[int, int]]] = {}
    for r in range(rows):
        for c in range(cols):
            groups.setdefault(find(r * cols + c), []).append((r, c))
    cells, boxes = [], []
    for places in groups.values():
        r0, c0 = min(p[0] for p in places), min(p[1] for p in places)
        r1, c1 = max(p[0] for p in places), max(p[1] for p in places)
        # a merge is a rectangle; rules missed in another shape (a worn scan) leave the cells apart
        spans = [(r0, c0, r1, c1)] if len(places) == (r1 - r0 + 1) * (c1 - c0 + 1) else [(r, c, r, c)
                                                                                          for r, c in places]
        for a, b, y, z in spans:
            cells.append(GridCell(a, b, y - a + 1, z - b + 1))
            boxes.append((xs[b], ys[a], xs[z + 1], ys[y + 1]))
    order = sorted(range(len(cells)), key=lambda i: (cells[i].row, cells[i].col))
    grid = Grid([cells[i] for i in order], rows, cols, tuple(xs), ys[0], ys[-1])
    return grid, [boxes[i] for i in order]


def _ruled(mask: np.ndarray, at: int, start: int, end: int, vertical: bool) -> bool:
    """A rule runs along the cell's side."""
    inner = slice(start + 4, max(end - 4, start + 5))
    band = slice(max(at - 4, 0), at + 5)
    strip = mask[inner, band] if vertical else mask[band, inner]
    covered = (strip.max(axis=1 if vertical else 0) > 0).mean() if strip.size else 0.0
    return covered > 0.2  # a missing rule is missing along the whole side, not worn in places
