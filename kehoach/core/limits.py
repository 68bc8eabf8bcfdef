"""Input limits: what a build accepts before it reads a byte of text.

Each limit is a setting with a sane default, overridden by an environment
variable (a plain integer; ``0`` or less means no limit). They keep a hostile
or mistaken input (``/dev/zero``, a 10 GB log, a directory of a million files)
from exhausting memory or time; a real plan is far below every default.
"""

from __future__ import annotations

from dataclasses import dataclass

from kehoach.core.settings import whole_number

# name of the setting -> (environment variable, default)
SETTINGS = {
    "max_file_bytes": ("KEHOACH_MAX_FILE_BYTES", 50 * 1024 * 1024),
    "max_line_chars": ("KEHOACH_MAX_LINE_CHARS", 1_000_000),
    "max_files": ("KEHOACH_MAX_FILES", 20_000),  # a national corpus: every province, year and amendment
    # A Word document is a ZIP archive: what it unpacks to, in bytes and as a multiple of its own
    # size, is capped before a byte is inflated (a zip bomb). A 30-page plan unpacks to about
    # 1 MB at a ratio under 10; pictures are stored, not deflated.
    "max_unpacked_bytes": ("KEHOACH_MAX_UNPACKED_BYTES", 200 * 1024 * 1024),
    "max_unpack_ratio": ("KEHOACH_MAX_UNPACK_RATIO", 100),
    "max_pdf_pages": ("KEHOACH_MAX_PDF_PAGES", 1_000),  # a plan with its appendices: tens of pages
}


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int | None
    max_line_chars: int | None
    max_files: int | None
    max_unpacked_bytes: int | None
    max_unpack_ratio: int | None
    max_pdf_pages: int | None


def _setting(variable: str, default: int) -> int | None:
    value = whole_number(variable)
    if value is None:
        return default
    return value if value > 0 else None  # 0 or less: no limit


def limits() -> Limits:
    """The limits in force (read from the environment on each call, so a served
    deployment picks up a changed setting at its next run)."""
    return Limits(**{name: _setting(variable, default) for name, (variable, default) in SETTINGS.items()})
