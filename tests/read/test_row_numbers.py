"""Row numbers OCR misread are put right by the numbering around them, and flagged (kehoach/read/row_numbers.py).

The misreads are tesseract's on a scan of the plan of raw/ ('7.7' read '77', the group '7' read '1');
the cells are built here.
"""

from __future__ import annotations

from kehoach.read.document import Cell
from kehoach.read.row_numbers import renumbered


def read(*texts: str | None, confidence: float | None = 90.0) -> list[Cell | None]:
    return [None if t is None else Cell(t, confidence=confidence) for t in texts]


def texts(cells: list[Cell | None]) -> list[str | None]:
    return [None if c is None else c.text for c in cells]


def test_a_dropped_point_and_a_misread_group_number_are_put_right_and_flagged():
    cells = read("6.8", "6.9", "1", None, "7.1", "7.6", "77", "7.8", "79", "7.10", "8")
    out = renumbered(cells)
    assert texts(out) == ["6.8", "6.9", "7", None, "7.1", "7.6", "7.7", "7.8", "7.9", "7.10", "8"]
    assert [c.confidence for c in out if c is not None and c.text in ("7", "7.7", "7.9")] == [0.0, 0.0, 0.0]
    assert out[1].confidence == 90.0  # a number as read keeps its confidence


def test_a_number_the_numbering_cannot_tell_is_left_as_read():
    # a real gap (no 4.6): nothing follows 4.5 and is followed by 4.8 but 4.7 itself, which 4.5 is not followed by
    assert texts(renumbered(read("4.5", "4.7", "4.8"))) == ["4.5", "4.7", "4.8"]
    # two numbers could stand between 4.5 and 5 (4.6, 4.5.1): left as read
    assert texts(renumbered(read("4.5", "47", "5"))) == ["4.5", "47", "5"]
    # the first and the last numbers have no neighbour on one side
    assert texts(renumbered(read("11", "1.2", "1.3", "14"))) == ["11", "1.2", "1.3", "14"]
    # a typist's '9 2' follows 9.1
    assert texts(renumbered(read("9.1", "9 2", "9.3"))) == ["9.1", "9 2", "9.3"]


def test_numbers_read_from_a_text_layer_are_never_changed():
    assert texts(renumbered(read("6.9", "1", "7.1", confidence=None))) == ["6.9", "1", "7.1"]


def test_a_figure_read_as_a_mark_is_put_right_but_not_a_group_named_otherwise():
    assert texts(renumbered(read("7.6", "!.7", "7.8"))) == ["7.6", "7.7", "7.8"]
    assert texts(renumbered(read("2", "3", "II", "1", "2"))) == ["2", "3", "II", "1", "2"]
    assert texts(renumbered(read("7.6", "Tổng", "7.8"))) == ["7.6", "Tổng", "7.8"]


def test_a_comma_between_levels_read_by_ocr_is_a_point_and_flagged():
    out = renumbered(read("7.9", "7,10", "8"))
    assert texts(out) == ["7.9", "7.10", "8"] and out[1].confidence == 0.0
    assert texts(renumbered(read("7.9", "7,10", "8", confidence=None))) == ["7.9", "7,10", "8"]
