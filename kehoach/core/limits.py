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
    # 1 MB at a ratio under 10; pictures are stored, not deflated. A PDF's compressed streams
    # other than images (pages' text, fonts: what pdfminer inflates whole) are capped the same way.
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


def unpacked_beyond_limits(unpacked: int, size: int, what: str) -> str | None:
    """What is wrong with ``what`` (a file of ``size`` bytes) unpacking to ``unpacked`` bytes, or None
    within the limits ``max_unpacked_bytes`` and ``max_unpack_ratio``."""
    limit = limits()
    if limit.max_unpacked_bytes and unpacked > limit.max_unpacked_bytes:
        return (f"{what} unpacks to {unpacked:,} bytes, more than {limit.max_unpacked_bytes:,} "
                "(the limit KEHOACH_MAX_UNPACKED_BYTES)")
    if limit.max_unpack_ratio and unpacked > limit.max_unpack_ratio * max(size, 1):
        return (f"{what} unpacks to {-(-unpacked // max(size, 1)):,} times its size, more than "
                f"{limit.max_unpack_ratio:,} (the limit KEHOACH_MAX_UNPACK_RATIO): a decompression bomb?")
    return None


def unpack_budget(size: int) -> int | None:
    """The most bytes a file of ``size`` bytes may unpack to (None: no limit)."""
    limit = limits()
    caps = [c for c in (limit.max_unpacked_bytes, limit.max_unpack_ratio and limit.max_unpack_ratio * max(size, 1))
            if c]
    return min(caps) if caps else None
