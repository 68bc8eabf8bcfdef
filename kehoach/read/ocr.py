"""Reading the pages of a PDF that have no text layer (scans) by OCR.

Each page is rendered (pypdfium2), turned upright (a landscape page, as a
sheet-feed scanner turns it, by tesseract's orientation detection) and
straightened (the skew that makes the text's rows sharpest, within ±3°). The
ruling lines are found with OpenCV (img2table would do it too, for 415 MB more
of dependencies); they give the tables' cells, merged cells where a rule is
missing. Each cell is cut out and read by itself: the cells are stacked under
the page (tables blanked out) and the whole is read by one call of Debian's
``tesseract`` (Vietnamese model) in TSV, which gives every word a confidence.
A value read by OCR keeps the lowest confidence of its words, so a doubtful
value is flagged, never silent.

Pages are read in parallel, one tesseract process per core
(``OMP_THREAD_LIMIT=1``: tesseract's own threads only slow down a full machine);
the page images are rendered one at a time as workers free up, so memory
stays bounded.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache

import cv2
import numpy as np
import pypdfium2

from kehoach.core.errors import KehoachError
from kehoach.core.text import nfc
from kehoach.read.page_layout import Grid, GridCell, Line, Page

DPI = 300
_POINT = DPI / 72  # pixels per point
_TILE_MARGIN = 16  # white around a cell's image
_TILE_GAP = 30
_TILE_SCALE = 1.5
# A line of OCR'd text is about this much taller than its font size (accents above, descenders below).
_HEIGHT_TO_SIZE = 0.8
_DASHES = re.compile(r"^[-–—_~=.]+$")


@cache
def ocr_reader() -> str:
    try:
        out = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return "tesseract (not installed)"
    return out.splitlines()[0].strip() if out else "tesseract"


def read_scanned_pages(data: bytes, numbers: list[int], name: str) -> dict[int, Page]:
    """The pages ``numbers`` (1-based) of the PDF, read by OCR."""
    if shutil.which("tesseract") is None:
        raise KehoachError(f"page {numbers[0]}: the page is a scanned image and tesseract is not installed "
                           "(make installs it: tesseract-ocr tesseract-ocr-vie)", name)
    workers = os.cpu_count() or 1
    found: dict[int, Page] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: list[tuple[int, Future[Page]]] = []
        for number, image in _images(data, numbers, name):
            pending.append((number, pool.submit(_read_page, image, number, name)))
            while len([f for _, f in pending if not f.done()]) >= 2 * workers:
                next(f for _, f in pending if not f.done()).result()
        for number, future in pending:
            found[number] = future.result()
    return found


def _images(data: bytes, numbers: list[int], name: str) -> Iterator[tuple[int, np.ndarray]]:
    """The pages as grey images, one at a time (pdfium is not thread-safe: rendered here, read in the pool)."""
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise KehoachError(f"page {numbers[0]}: cannot be rendered ({exc})", name) from None
    try:
        for number in numbers:
            try:
                bitmap = document[number - 1].render(scale=_POINT, grayscale=True)
                image = np.array(bitmap.to_pil().convert("L"))
            except pypdfium2.PdfiumError as exc:
                raise KehoachError(f"page {number}: cannot be rendered ({exc})", name) from None
            yield number, image
    finally:
        document.close()


def _read_page(image: np.ndarray, number: int, name: str) -> Page:
    image = _straighten(_upright(image, number, name))
    ink = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    horizontal, vertical = _rules(ink)
    tables = _tables(horizontal, vertical)
    clean = cv2.medianBlur(image, 3)  # a scanner's specks, which tesseract reads as marks
    clean[cv2.dilate(horizontal | vertical, np.ones((5, 5), np.uint8)) > 0] = 255
    page_part = clean.copy()
    for grid, _ in tables:
        page_part[int(grid.top):int(grid.bottom) + 1, int(grid.edges[0]):int(grid.edges[-1]) + 1] = 255
    composite, tiles = _composite(page_part, clean, ink, tables)
    words = _tesseract(composite, number, name)
    lines, by_tile = _lines(words, image.shape[0], tiles)
    for t, (cell, _) in enumerate(tiles):
        cell.lines = by_tile.get(t, [])
        cell.confidence = min((line.confidence for line in cell.lines if line.confidence is not None), default=None)
    height, width = image.shape
    grids = [_in_points(grid) for grid, _ in tables]
    return Page(number, width / _POINT, height / _POINT, lines, grids)


def _upright(image: np.ndarray, number: int, name: str) -> np.ndarray:
    """A landscape page of a portrait document turned back, by tesseract's orientation detection."""
    height, width = image.shape
    if width <= height:
        return image
    small = cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    out = _run(["--psm", "0", "-l", "osd"], small, number, name, "stdout")
    found = re.search(r"Rotate:\s*(\d+)", out)
    turns = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    angle = int(found[1]) if found else 90
    return cv2.rotate(image, turns[angle]) if angle in turns else image


def _straighten(image: np.ndarray) -> np.ndarray:
    """Turned by the angle (±3°, in steps of 0.1°) at which the rows of ink are sharpest."""
    small = cv2.resize(image, (image.shape[1] // 4, image.shape[0] // 4), interpolation=cv2.INTER_AREA)
    ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1].astype(np.float32)
    centre = (small.shape[1] / 2, small.shape[0] / 2)

    def sharpness(angle: float) -> float:
        turned = cv2.warpAffine(ink, cv2.getRotationMatrix2D(centre, angle, 1.0), (small.shape[1], small.shape[0]))
        return float(np.var(turned.sum(axis=1)))

    coarse = max(np.arange(-3.0, 3.01, 0.5), key=sharpness)
    best = max(np.arange(coarse - 0.5, coarse + 0.51, 0.1), key=sharpness)
    if abs(best) < 0.05:
        return image
    matrix = cv2.getRotationMatrix2D((image.shape[1] / 2, image.shape[0] / 2), float(best), 1.0)
    return cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR,
                          borderValue=255)


def _rules(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The horizontal and vertical ruling lines: ink that stays after opening with a long thin kernel."""
    height, width = ink.shape
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (width // 30, 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, height // 70)))
    return horizontal, vertical


def _tables(horizontal: np.ndarray, vertical: np.ndarray) -> list[tuple[Grid, list]]:
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


def _composite(page_part: np.ndarray, clean: np.ndarray, ink: np.ndarray,
               tables: list[tuple[Grid, list]]) -> tuple[np.ndarray, list[tuple[GridCell, tuple[int, int]]]]:
    """The page (tables blanked) with every inked cell's image stacked below it:
    one tesseract call reads them all, each cell by itself."""
    pieces: list[tuple[GridCell, np.ndarray]] = []
    for grid, boxes in tables:
        for cell, (x0, y0, x1, y1) in zip(grid.cells, boxes, strict=True):
            crop = clean[int(y0) + 5:int(y1) - 4, int(x0) + 5:int(x1) - 4]
            if crop.size and (crop < 128).sum() > 12:
                # enlarged: a cell's short text (a row number, an amount) reads better at a larger size
                pieces.append((cell, cv2.resize(crop, None, fx=_TILE_SCALE, fy=_TILE_SCALE,
                                                interpolation=cv2.INTER_CUBIC)))
    height = page_part.shape[0] + sum(p.shape[0] + 2 * _TILE_MARGIN + _TILE_GAP for _, p in pieces)
    width = max([page_part.shape[1], *(p.shape[1] + 2 * _TILE_MARGIN for _, p in pieces)])
    out = np.full((height, width), 255, np.uint8)
    out[:page_part.shape[0], :page_part.shape[1]] = page_part
    y = page_part.shape[0]
    tiles = []
    for cell, crop in pieces:
        top = y + _TILE_GAP + _TILE_MARGIN
        out[top:top + crop.shape[0], _TILE_MARGIN:_TILE_MARGIN + crop.shape[1]] = crop
        tiles.append((cell, (top - _TILE_MARGIN, top + crop.shape[0] + _TILE_MARGIN)))
        y = top + crop.shape[0] + _TILE_MARGIN
    return out, tiles


def _tesseract(image: np.ndarray, number: int, name: str) -> list[dict]:
    out = _run(["--psm", "6", "-l", "vie", "tsv"], image, number, name, "stdout")
    words = []
    for row in csv.DictReader(io.StringIO(out), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") == "5" and text:
            words.append({"text": nfc(text), "conf": float(row["conf"]), "left": int(row["left"]),
                          "top": int(row["top"]), "width": int(row["width"]), "height": int(row["height"]),
                          "line": (row["block_num"], row["par_num"], row["line_num"])})
    return words


def _run(arguments: list[str], image: np.ndarray, number: int, name: str, output: str) -> str:
    _, png = cv2.imencode(".png", image)
    try:
        done = subprocess.run(["tesseract", "stdin", output, *arguments], input=png.tobytes(), capture_output=True,
                              env={**os.environ, "OMP_THREAD_LIMIT": "1"}, check=False, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise KehoachError(f"page {number}: OCR failed ({type(exc).__name__})", name) from None
    if done.returncode != 0:
        reason = " ".join(done.stderr.decode("utf-8", "replace").split())[:160]
        raise KehoachError(f"page {number}: OCR failed (tesseract: {reason})", name)
    return done.stdout.decode("utf-8", "replace")


def _lines(words: list[dict], page_height: int, tiles: list) -> tuple[list[Line], dict[int, list[Line]]]:
    """Tesseract's lines, in points; those of the page, and those of each cell's tile."""
    grouped: dict[tuple, list[dict]] = {}
    for word in words:
        grouped.setdefault(word["line"], []).append(word)
    page_lines: list[Line] = []
    by_tile: dict[int, list[Line]] = {}
    starts = [top for _, (top, _) in tiles]
    for group in grouped.values():
        group.sort(key=lambda w: w["left"])
        middle = sum(w["top"] + w["height"] / 2 for w in group) / len(group)
        line = _line(group)
        if middle < page_height:
            page_lines.append(line)
            continue
        tile = max((t for t, top in enumerate(starts) if top <= middle), default=None)
        if tile is not None:
            by_tile.setdefault(tile, []).append(_shifted(line, starts[tile]))
    for lines in by_tile.values():
        lines.sort(key=lambda line: line.top)
    return sorted(page_lines, key=lambda line: line.top), by_tile


def _line(group: list[dict]) -> Line:
    top = min(w["top"] for w in group)
    bottom = max(w["top"] + w["height"] for w in group)
    heights = sorted(w["height"] for w in group)
    size = heights[len(heights) // 2] * _HEIGHT_TO_SIZE / _POINT
    chunks: list[list] = []
    for word in group:
        gap = word["left"] - (chunks[-1][2] if chunks else 0)
        if not chunks or gap > size * _POINT * 2.5:
            chunks.append([word["left"] / _POINT, word["text"], word["left"] + word["width"]])
        else:
            chunks[-1][1] += " " + word["text"]
            chunks[-1][2] = word["left"] + word["width"]
    text = " ".join(c[1] for c in chunks)
    text = "-" if _DASHES.match(text) else text
    return Line(text, group[0]["left"] / _POINT, (group[-1]["left"] + group[-1]["width"]) / _POINT,
                top / _POINT, bottom / _POINT, size, confidence=min(w["conf"] for w in group),
                chunks=tuple((x, t) for x, t, _ in chunks) if len(chunks) > 1 else ())


def _shifted(line: Line, top: int) -> Line:
    line.top -= top / _POINT
    line.bottom -= top / _POINT
    return line


def _in_points(grid: Grid) -> Grid:
    return Grid(grid.cells, grid.rows, grid.cols, tuple(x / _POINT for x in grid.edges), grid.top / _POINT,
                grid.bottom / _POINT)
