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
from kehoach.read.ocr_words import Doubt, doubts_of, read_words_again
from kehoach.read.page_layout import Grid, GridCell, Line, Page
from kehoach.read.ruled_tables import ruled_tables, rules

DPI = 300
_POINT = DPI / 72  # pixels per point
_TILE_MARGIN = 16  # white around a cell's image
_CELL_INSET = 8  # a cell's image starts this far inside its rules (pixels)
_TILE_GAP = 30
_PAGE_GAP = 200
_TILE_SCALE = 2.0
_MAX_IMAGE_HEIGHT = 30_000  # tesseract refuses an image over 32,767 pixels
# A line of OCR'd text is about this much taller than its font size (accents above, descenders below).
_HEIGHT_TO_SIZE = 0.8
_DASHES = re.compile(r"^[-–—_~=.]+$")
_WORDS = ["--psm", "6", "-l", "vie"]
_UNREAD_AGAIN = 8
# figures only: a row number, an amount, a date
_FIGURES = ["--psm", "6", "-l", "eng", "-c", "tessedit_char_whitelist=0123456789.,-/"]
_FIGURE = re.compile(r"^[0-9][0-9.,/ -]*$")
_AGAIN_BELOW = 90
_DIGITS_ONLY = re.compile(r"^\d{2,}$")
_SPACE_TO_HEIGHT = 0.45  # a gap this wide for the figures' height is a space
_SPECK_PIXELS = 6
_DASH_CONFIDENCE = 90.0  # the stroke's shape, not tesseract, says it is a dash
# Tesseract's Vietnamese model often gives the Icelandic eth 'Ð' (U+00D0), which looks the same, for 'Đ'
# (U+0110): Vietnamese has no eth, and an agency's or a document's name would not be found ('LÐ-TB&XH').
_ETH = str.maketrans({"Ð": "Đ", "ð": "đ"})


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
    horizontal, vertical = rules(ink)
    tables = ruled_tables(horizontal, vertical)
    clean = _without_specks(ink)
    clean[_rule_ink(horizontal, vertical, tables) > 0] = 255
    page_part = clean.copy()
    for grid, _ in tables:
        page_part[int(grid.top):int(grid.bottom) + 1, int(grid.edges[0]):int(grid.edges[-1]) + 1] = 255
    cells, crops = _cell_images(clean, tables)
    doubts: list[Doubt] = []
    lines, by_tile = _read_stacked(page_part, crops, number, name, _WORDS, doubts)
    for t, cell in enumerate(cells):
        cell.lines = by_tile[t] or _dash(crops[t])
    _read_unread(cells, crops, number, name)
    _read_again(cells, crops, number, name)
    read_words_again(doubts, {-1: page_part, **dict(enumerate(crops))},
                     lambda images: _read_stacked(None, images, number, name, _WORDS)[1])
    for cell in cells:
        cell.confidence = min((line.confidence for line in cell.lines if line.confidence is not None), default=None)
    height, width = image.shape
    grids = [_in_points(grid) for grid, _ in tables]
    return Page(number, width / _POINT, height / _POINT, lines, grids)


def _rule_ink(horizontal: np.ndarray, vertical: np.ndarray, tables: list[tuple[Grid, list]]) -> np.ndarray:
    """The ink of the ruling lines, to blank: none inside a cell, away from its sides. A long enough
    stroke of text looks like a rule to the opening that finds them (the crossbars of 'BTTTT' run
    together): blanked, it left 'BIIII', which tesseract read 'BII11'."""
    found = cv2.dilate(horizontal | vertical, np.ones((5, 5), np.uint8))
    for _, boxes in tables:
        for x0, y0, x1, y1 in boxes:
            found[int(y0) + _CELL_INSET:int(y1) - _CELL_INSET, int(x0) + _CELL_INSET:int(x1) - _CELL_INSET] = 0
    return found


def _without_specks(ink: np.ndarray) -> np.ndarray:
    """Black text on white, without a scanner's specks (blots of a few pixels, which tesseract
    reads as marks); a full stop is larger and stays (a median filter would take it: '9.3' -> '93')."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    specks = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] <= _SPECK_PIXELS)
    out = np.where(ink > 0, 0, 255).astype(np.uint8)
    out[np.isin(labels, specks[specks > 0])] = 255
    return out


def _dash(crop: np.ndarray) -> list[Line]:
    """A cell whose only ink is a short flat stroke holds '-' (an explicit zero), which tesseract skips."""
    ys, xs = np.nonzero(crop < 128)
    if not len(xs):
        return []
    width, height = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    if width >= 2 * height and height <= 12 * _TILE_SCALE:
        return [Line("-", 0, 1, 0, 1, 1, confidence=_DASH_CONFIDENCE)]
    return []


def _read_unread(cells: list[GridCell], crops: list[np.ndarray], number: int, name: str) -> None:
    """Inked cells the stacked reading found nothing in (a short bold label, 'TT'), read again each by
    itself (at most ``_UNREAD_AGAIN`` a page); one still unread is empty with confidence 0: its row is flagged."""
    unread = [t for t, cell in enumerate(cells) if not cell.lines]
    for k, t in enumerate(unread):
        again = _read_stacked(None, [crops[t]], number, name, _WORDS)[1][0] if k < _UNREAD_AGAIN else []
        cells[t].lines = again or [Line("", 0, 1, 0, 1, 1, confidence=0.0)]


def _read_again(cells: list[GridCell], crops: list[np.ndarray], number: int, name: str) -> None:
    """Short doubtful values (a row number, an amount) read again as figures only; the surer reading is kept."""
    doubtful = [t for t, cell in enumerate(cells) if len(cell.lines) == 1 and cell.lines[0].confidence is not None
                and cell.lines[0].confidence < _AGAIN_BELOW and len(cell.lines[0].text.replace(" ", "")) <= 12]
    if not doubtful:
        return
    _, by_tile = _read_stacked(None, [crops[t] for t in doubtful], number, name, _FIGURES)
    for k, t in enumerate(doubtful):
        again = by_tile[k]
        if len(again) == 1 and (again[0].confidence or 0) > (cells[t].lines[0].confidence or 0) \
                and _FIGURE.match(again[0].text):
            cells[t].lines = again


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


def _cell_images(clean: np.ndarray, tables: list[tuple[Grid, list]]) -> tuple[list[GridCell], list[np.ndarray]]:
    """Each inked cell's image, inside its rules, enlarged (a short text reads better larger)."""
    cells, crops = [], []
    inset = _CELL_INSET
    for grid, boxes in tables:
        for cell, (x0, y0, x1, y1) in zip(grid.cells, boxes, strict=True):
            crop = clean[int(y0) + inset:int(y1) - inset, int(x0) + inset:int(x1) - inset]
            if crop.size and (crop < 128).sum() > 12:
                cells.append(cell)
                crops.append(cv2.resize(crop, None, fx=_TILE_SCALE, fy=_TILE_SCALE, interpolation=cv2.INTER_CUBIC))
    return cells, crops


def _read_stacked(head: np.ndarray | None, crops: list[np.ndarray], number: int, name: str,
                  how: list[str], doubts: list[Doubt] | None = None) -> tuple[list[Line], list[list[Line]]]:
    """The page's lines and each cell's, read in as few tesseract calls as its image size limit allows
    (``doubts``: where the doubtful words are put, with their boxes in the page's or their cell's image)."""
    page_lines: list[Line] = []
    per_crop: list[list[Line]] = [[] for _ in crops]
    start = 0
    while start == 0 or start < len(crops):
        top = head.shape[0] if head is not None and start == 0 else 0
        end, height = start, top + (_PAGE_GAP if top else 0)
        while end < len(crops) and (end == start or height + _tile_height(crops[end]) <= _MAX_IMAGE_HEIGHT):
            height += _tile_height(crops[end])
            end += 1
        image, tops = _stack(head if start == 0 else None, crops[start:end])
        lines, by_tile = _lines(_tesseract(image, number, name, how), top, tops,
                                [] if doubts is None else doubts, start)
        page_lines = page_lines or lines
        for k, found in by_tile.items():
            per_crop[start + k] = found
        if end == 0:
            break
        start = end
    return page_lines, per_crop


def _tile_height(crop: np.ndarray) -> int:
    return crop.shape[0] + 2 * _TILE_MARGIN + _TILE_GAP


def _stack(head: np.ndarray | None, crops: list[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """The page (tables blanked) with the cells' images stacked below it, apart: one
    tesseract call reads them all, each cell by itself. Returns the image and each cell's top."""
    # the cells well below the page: tesseract must not take a cell's text for the page's last line
    top = head.shape[0] + _PAGE_GAP if head is not None else 0
    height = top + sum(_tile_height(c) for c in crops)
    width = max([head.shape[1] if head is not None else 0, *(c.shape[1] + 2 * _TILE_MARGIN for c in crops)])
    out = np.full((max(height, 1), max(width, 1)), 255, np.uint8)
    if head is not None:
        out[:head.shape[0], :head.shape[1]] = head
    tops = []
    y = top
    for crop in crops:
        y += _TILE_GAP + _TILE_MARGIN
        out[y:y + crop.shape[0], _TILE_MARGIN:_TILE_MARGIN + crop.shape[1]] = crop
        tops.append(y - _TILE_MARGIN)
        y += crop.shape[0] + _TILE_MARGIN
    return out, tops


def _tesseract(image: np.ndarray, number: int, name: str, how: list[str]) -> list[dict]:
    # black on white: tesseract misreads a short grey text (a row number alone in its cell) far more often
    black_white = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]
    out = _run([*how, "tsv"], black_white, number, name, "stdout")
    words = []
    for row in csv.DictReader(io.StringIO(out), delimiter="\t", quoting=csv.QUOTE_NONE):
        # a '|' is a rule's remnant or a misread 'I': never the canonical text's cell mark
        text = (row.get("text") or "").strip().strip("|").replace("|", "I")
        if row.get("level") == "5" and text:
            box = int(row["left"]), int(row["top"]), int(row["width"]), int(row["height"])
            words.append({"text": _spaced(nfc(text).translate(_ETH), black_white, box), "conf": float(row["conf"]),
                          "left": box[0], "top": box[1], "width": box[2], "height": box[3],
                          "line": (row["block_num"], row["par_num"], row["line_num"])})
    return words


def _spaced(text: str, image: np.ndarray, box: tuple[int, int, int, int]) -> str:
    """A figure tesseract read as one word over a gap as wide as a space ('9 2', a typist's row
    number, read '92'): the space put back where the gap is (figures are of one width)."""
    if not _DIGITS_ONLY.match(text):
        return text
    left, top, width, height = box
    ink = (image[top:top + height, left:left + width] < 128).any(axis=0)
    gaps, run = [], 0
    for x, inked in enumerate(ink):
        if not inked:
            run += 1
            continue
        if run >= height * _SPACE_TO_HEIGHT and x > run:
            gaps.append(x - run / 2)
        run = 0
    for at in sorted(gaps, reverse=True):
        cut = round(len(text) * at / width)
        if 0 < cut < len(text):
            text = text[:cut] + " " + text[cut:]
    return text


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


def _lines(words: list[dict], page_height: int, starts: list[int], doubts: list[Doubt],
           first: int) -> tuple[list[Line], dict[int, list[Line]]]:
    """Tesseract's lines, in points; those of the page, and those of each cell's tile (the ``first``
    cell's is the first tile), their doubtful words added to ``doubts``."""
    grouped: dict[tuple, list[dict]] = {}
    for word in words:
        grouped.setdefault(word["line"], []).append(word)
    page_lines: list[Line] = []
    by_tile: dict[int, list[Line]] = {}
    for group in grouped.values():
        group.sort(key=lambda w: w["left"])
        middle = sum(w["top"] + w["height"] / 2 for w in group) / len(group)
        line = _line(group)
        if middle < page_height:
            page_lines.append(line)
            doubts.extend(doubts_of(line, group, -1, 0, 0))
            continue
        tile = max((t for t, top in enumerate(starts) if top <= middle), default=None)
        if tile is not None:
            doubts.extend(doubts_of(line, group, first + tile, _TILE_MARGIN, starts[tile] + _TILE_MARGIN))
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
