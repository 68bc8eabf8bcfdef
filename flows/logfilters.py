"""Logging filters used by ``flows/logging.yml``."""

from __future__ import annotations

import logging
import os

from kehoach.core.errors import KehoachError


class DropExpectedFailures(logging.Filter):
    """Drop Prefect's failure reports (with tracebacks) for ``KehoachError``.

    The CLI prints those errors itself as one ``FILE:LINE: message`` line;
    set KEHOACH_DEBUG=1 to see Prefect's full reports.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if os.environ.get("KEHOACH_DEBUG") == "1":
            return True
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, KehoachError):
            return False
        return "KehoachError" not in record.getMessage()
