"""A PDF's compressed streams, measured before pdfminer inflates them.

pdfminer inflates a stream whole, in memory (``zlib.decompress``): a page whose
content stream is 300 KB of deflated spaces took 1 GB. Before the PDF is
opened, every Flate stream pdfminer would inflate (pages' content, object and
cross-reference streams, fonts; not images, which it never inflates and pdfium
renders within the page's size) is inflated here piece by piece, counting and
discarding, against the input limits of a ZIP archive
(``KEHOACH_MAX_UNPACKED_BYTES``, ``KEHOACH_MAX_UNPACK_RATIO``). A stream is found
by its keyword, as pdfminer's own fallback parser does; one that is not a zlib
stream (JPEG, other filters, damage) counts nothing.
"""

from __future__ import annotations

import re
import zlib

from kehoach.core.errors import KehoachError
from kehoach.core.limits import unpack_budget, unpacked_beyond_limits

_STREAM = re.compile(rb"stream\r?\n")
_OBJECT = b" obj"
_IMAGE = re.compile(rb"/Subtype\s*/Image\b")
_DICTIONARY_REACH = 4096  # how far before its keyword a stream's dictionary is looked for
_PIECE = 1 << 16


def check_streams(data: bytes, name: str) -> None:
    """Refuse a PDF whose streams unpack beyond the limits (``FILE: page 1: …``, as a file that cannot be
    opened is refused), before any is inflated whole."""
    budget = unpack_budget(len(data))
    if budget is None:
        return
    unpacked = 0
    for found in _STREAM.finditer(data):
        if _is_image(data, found.start()):
            continue
        unpacked += _inflated_size(data, found.end(), budget - unpacked + 1)
        if unpacked > budget:
            raise KehoachError(f"page 1: {unpacked_beyond_limits(unpacked, len(data), 'the PDF')}", name)


def _is_image(data: bytes, keyword: int) -> bool:
    start = data.rfind(_OBJECT, max(keyword - _DICTIONARY_REACH, 0), keyword)
    return bool(_IMAGE.search(data, max(start, keyword - _DICTIONARY_REACH, 0), keyword))


def _inflated_size(data: bytes, start: int, most: int) -> int:
    """What the zlib stream at ``data[start]`` inflates to, counted up to a little beyond ``most``; 0 for
    bytes that are not one."""
    inflater = zlib.decompressobj()
    size = 0
    at = start
    try:
        while at < len(data) and not inflater.eof and size <= most:
            pending = data[at:at + _PIECE]
            at += _PIECE
            while pending and size <= most:
                size += len(inflater.decompress(pending, _PIECE))
                pending = inflater.unconsumed_tail
    except zlib.error:
        pass  # damaged, or not zlib: pdfminer reads what it can of it, within what was counted so far
    return size
