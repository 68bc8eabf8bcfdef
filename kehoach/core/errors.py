"""The one exception type users see: a located, one-line message."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
# File-system errors a user can fix (free space, a file-size limit, permissions, a read-only
# mount), with what to do: reported in one line like input errors; the previous package is never touched.
FILESYSTEM_ERRNOS = {
    errno.ENOSPC: "free some space",
    errno.EDQUOT: "free some space",
    errno.EFBIG: "raise the file-size limit (ulimit -f) or free some space",
    errno.EACCES: "check permissions",
    errno.EPERM: "check permissions",
    errno.EROFS: "check permissions",
}


def _escape(text: str) -> str:
    """Control characters as Python escapes ('\\n')."""
    return _CONTROL.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), text)


# The CLI's exit status for an error the user can fix (one located line) and for a bug.
EXIT_INPUT = 2
EXIT_INTERNAL = 3


class KehoachError(Exception):
    """An input or configuration problem, reported as ``FILE:LINE: message``.

    Raised for anything a user can fix (bad encoding, a table that ends
    mid-row, an unknown column header, an invalid package). The CLI prints
    ``str(error)`` on one line and exits non-zero, without a traceback.
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line

    def located(self, path: str | Path, line: int | None = None) -> KehoachError:
        """Return a copy located in ``path`` (keeps a line already known)."""
        return KehoachError(self.message, path, self.line if self.line is not None else line)

    def __str__(self) -> str:
        # A file name may hold a newline or other control characters: escaped,
        # so the message stays one line.
        where = _escape(self.path or "")
        if self.path and self.line is not None:
            where = f"{where}:{self.line}"
        # Messages must stay on one line whatever the input contained.
        message = " ".join(self.message.split())
        return f"{where}: {message}" if where else message


class TryAgainLater(KehoachError):
    """The machine was too busy for the run to go on in the time allowed (nothing was written):
    the same run later succeeds. The CLI reports it like any ``KehoachError`` (one line, exit 2);
    the served refresh is retried by Prefect after a delay (``flows.deploy``)."""


def filesystem_error(exc: BaseException, where: str | Path | None = None) -> KehoachError | None:
    """A disk-full or permission error as a located, one-line error (else None); located in
    ``where`` (the output) when the error names no file (a failed write() names none)."""
    if not isinstance(exc, OSError) or exc.errno not in FILESYSTEM_ERRNOS:
        return None
    reason = os.strerror(exc.errno).lower()
    return KehoachError(f"{reason}: {FILESYSTEM_ERRNOS[exc.errno]} and run again (the previous package is unchanged)",
                        exc.filename or where or None)


# DuckDB's words when a connection's memory limit (``kehoach.core.duckdb_memory``) is reached: an
# OutOfMemoryException (module '_duckdb'), or a FatalException whose cause was an allocation that failed.
_DUCKDB_OUT_OF_MEMORY = re.compile(r"(failed|could not) allocate|out of memory", re.IGNORECASE)


def memory_error(exc: BaseException, where: str | Path | None = None) -> KehoachError | None:
    """DuckDB out of its memory limit, as a one-line error located in ``where`` (the output), with
    what to do (else None). Recognised by DuckDB's module and words, not by importing DuckDB: the CLI
    reports it without loading DuckDB."""
    if not type(exc).__module__.lstrip("_").startswith("duckdb") or not _DUCKDB_OUT_OF_MEMORY.search(str(exc)):
        return None
    return KehoachError("DuckDB reached its memory limit: raise KEHOACH_DUCKDB_MEMORY (e.g. 4GB) or free memory, "
                        "and run again (the previous package is unchanged)", where)
