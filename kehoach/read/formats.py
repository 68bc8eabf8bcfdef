"""Which reader reads a file: the format is told by content, not by the name.

Each reader turns a file's bytes into a ``Document`` (``kehoach/read/document.py``);
a format is registered here once, with how to recognise it. Plain text
(today's reader, ``kehoach/read/sources.py``) is what is left when no
signature matches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kehoach.core.errors import KehoachError
from kehoach.read import open_document, pdf, web_page, word_document
from kehoach.read.document import Document

# What a user is told is read, wherever a file is refused (sources.py's binary data too).
ACCEPTED = ".docx, .odt, .pdf, .html, .md or a UTF-8 .txt"

Reader = Callable[[bytes, str], Document]  # (the file's bytes, its name as shown) -> document


@dataclass(frozen=True)
class Format:
    name: str
    recognises: Callable[[bytes], bool]
    read: Reader


# Formats in the order they are tried: one line per reader module (each says how its
# format is recognised and reads it; none imports this module, so no cycle).
FORMATS: list[Format] = [
    Format("docx", word_document.recognises, word_document.read),
    Format("odt", open_document.recognises, open_document.read),
    Format("html", web_page.recognises, web_page.read),
    Format("pdf", pdf.is_pdf, pdf.read_pdf),  # text PDF and scans (pages without text are OCR'd)
]

# Files recognised but not read, and what to do with them. Checked only when no
# format matched, before the bytes are decoded as text (whose refusal of a binary
# file would otherwise speak of text encodings).
_CONVERT = "open it in Word or LibreOffice and save it as .docx (or as a UTF-8 .txt)"
UNSUPPORTED: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
     f"binary data: a Word 97-2003 (.doc) or other OLE file, not read here; {_CONVERT}"),
    (b"{\\rtf", f"an RTF document, not read here; {_CONVERT}"),
)
_ZIP = b"PK\x03\x04"
# Word encrypts a protected .docx into an OLE compound file whose stream is named 'EncryptedPackage'
# (MS-OFFCRYPTO): told apart from a Word 97-2003 file, which needs converting, not its password removed.
_OLE = UNSUPPORTED[0][0]
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_ODF = b"mimetypeapplication/vnd.oasis.opendocument"


def format_of(data: bytes) -> Format | None:
    """The registered format whose signature the bytes carry (None: read as plain text)."""
    return next((f for f in FORMATS if f.recognises(data)), None)


def refuse_unsupported(data: bytes, path: str) -> None:
    """Raise a located error for a file recognised as a format this product does not
    read (saying how to convert it), or for binary data no reader knows."""
    if data.startswith(_OLE) and _ENCRYPTED_PACKAGE in data:
        raise KehoachError("a password-protected Word document (its package encrypted); open it in Word, remove "
                           "the password and save it as .docx", path)
    for signature, message in UNSUPPORTED:
        if data.startswith(signature):
            raise KehoachError(message, path)
    if data.startswith(_ZIP):
        if _ODF in data[:100]:
            raise KehoachError("binary data: an OpenDocument spreadsheet, presentation or drawing, not a text "
                               f"document; accepted: {ACCEPTED}", path)
        raise KehoachError("binary data: a ZIP archive that is neither a Word document (.docx) nor an "
                           f"OpenDocument text (.odt); accepted: {ACCEPTED}", path)
