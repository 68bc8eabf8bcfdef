"""Which reader reads a file: the format is told by content, not by the name.

Each reader turns a file's bytes into a ``Document`` (``kehoach/read/document.py``);
a format is registered here once, with how to recognise it. Plain text
(today's reader, ``kehoach/read/sources.py``) is what is left when no
signature matches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kehoach.read.document import Document
from kehoach.read.pdf import is_pdf, read_pdf

Reader = Callable[[bytes, str], Document]  # (the file's bytes, its name as shown) -> document


@dataclass(frozen=True)
class Format:
    name: str
    recognises: Callable[[bytes], bool]
    read: Reader


# Formats in the order they are tried; filled by the readers' registration below.
FORMATS: list[Format] = []


def format_of(data: bytes) -> Format | None:
    """The registered format whose signature the bytes carry (None: read as plain text)."""
    return next((f for f in FORMATS if f.recognises(data)), None)


# --- registration: one line per format ------------------------------------------------------
FORMATS.append(Format("pdf", is_pdf, read_pdf))  # text PDF and scans (pages without text are OCR'd)
