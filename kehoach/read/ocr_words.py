"""Words tesseract is unsure of, read again each by itself (scans: ``kehoach/read/ocr.py``).

Among the words of a line, tesseract sometimes misreads one it reads right
alone: on a scan of the plan of raw/, 'cung' in a task's name came out
'cuũng' at confidence 0 in its line, read again with its line alone still
'cuũng', and 'cung' at 95 cut out by itself. A word of letters below
``_AGAIN_BELOW`` is cut out along its box (a margin around it), the words of a
page read in one tesseract call like the cells (``ocr._read_stacked``), and the
surer reading is kept if it is one word; its line's confidence is then the
lowest of its words' again. Figures are not: a cell of figures is read again
as figures only (``ocr._read_again``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kehoach.read.page_layout import Line

_AGAIN_BELOW = 90
_MOST = 60  # words read again on a page, at most (one tesseract call, its cost bounded)
_MARGIN = 8  # pixels around a word's box


@dataclass
class Doubt:
    """A doubtful word: its line, its place among the line's words, the words' confidences, its box
    (left, top, width, height, in pixels of the image it was cut from) and that image's key (a cell's
    index, or -1: the page outside its tables)."""

    line: Line
    text: str
    index: int
    confidences: list[float]
    box: tuple[int, int, int, int]
    image: int


def doubts_of(line: Line, group: list[dict], image: int, left: int, top: int) -> list[Doubt]:
    """The doubtful words of a line read from ``group`` (tesseract's words, in pixels of the stacked
    image, the cut-out image at ``left``, ``top`` of it)."""
    confidences = [w["conf"] for w in group]
    return [Doubt(line, w["text"], k, confidences, (w["left"] - left, w["top"] - top, w["width"], w["height"]),
                  image) for k, w in enumerate(group)
            if w["conf"] < _AGAIN_BELOW and any(ch.isalpha() for ch in w["text"])]


def read_words_again(doubts: list[Doubt], images: dict[int, np.ndarray],
                     read: Callable[[list[np.ndarray]], list[list[Line]]]) -> None:
    """The doubtful words cut out of ``images`` and read again (``read``: their lines, image by image),
    the surer reading kept."""
    found = _word_images(doubts, images)
    if found:
        for (doubt, _), again in zip(found, read([crop for _, crop in found]), strict=True):
            _keep_surer(doubt, again)


def _word_images(doubts: list[Doubt], images: dict[int, np.ndarray]) -> list[tuple[Doubt, np.ndarray]]:
    """Each doubtful word cut out of its image (at most ``_MOST``)."""
    out = []
    for doubt in doubts[:_MOST]:
        image = images[doubt.image]
        left, top, width, height = doubt.box
        crop = image[max(top - _MARGIN, 0):top + height + _MARGIN, max(left - _MARGIN, 0):left + width + _MARGIN]
        if crop.size:
            out.append((doubt, crop))
    return out


def _keep_surer(doubt: Doubt, again: list[Line]) -> None:
    """The word read again replaces the first reading in its line if it is one word, read surer."""
    if len(again) != 1 or " " in again[0].text.strip() or again[0].confidence is None:
        return
    new, confidence = again[0].text.strip(), again[0].confidence
    if confidence <= doubt.confidences[doubt.index] or doubt.text not in doubt.line.text:
        return
    line = doubt.line
    line.text = line.text.replace(doubt.text, new, 1)
    if line.chunks:  # the first chunk holding the word
        at = next(k for k, (_, text) in enumerate(line.chunks) if doubt.text in text) \
            if any(doubt.text in text for _, text in line.chunks) else None
        if at is not None:
            x, text = line.chunks[at]
            line.chunks = (*line.chunks[:at], (x, text.replace(doubt.text, new, 1)), *line.chunks[at + 1:])
    doubt.confidences[doubt.index] = confidence
    line.confidence = min(doubt.confidences)
