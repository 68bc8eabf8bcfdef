"""Logging filters used by ``flows/logging.yml``."""

from __future__ import annotations

import logging
import os
import re

from kehoach.core.errors import FILESYSTEM_ERRNOS, KehoachError, filesystem_error

# Prefect's 'Finished in state Failed(… OSError: [Errno 28] No space left on device)' (no exc_info)
_ERRNO = re.compile(r"\[Errno (\d+)\]")
# distributed.nanny, closing a worker (Nanny.kill): the same words in every release since 2.x
_IDLE_WORKER_KILLED = re.compile(r"Worker process still alive after [\d.]+ seconds, killing")


class DropExpectedFailures(logging.Filter):
    """Drop Prefect's failure reports (with tracebacks) for ``KehoachError`` and for the
    disk-full and permission errors the CLI reports as one (``filesystem_error``).

    The CLI prints those errors itself as one ``FILE:LINE: message`` line;
    set KEHOACH_DEBUG=1 to see Prefect's full reports.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if os.environ.get("KEHOACH_DEBUG") == "1":
            return True
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, KehoachError) or (exc is not None and filesystem_error(exc) is not None):
            return False
        message = record.getMessage()
        if record.levelno >= logging.ERROR and any(int(n) in FILESYSTEM_ERRNOS for n in _ERRNO.findall(message)):
            return False
        return "KehoachError" not in message


class DropIdleWorkerKill(logging.Filter):
    """Drop Dask's 'Worker process still alive after 4.0 seconds, killing' when a cluster closes.

    A local cluster is closed after the parse, when its workers hold nothing: on a busy machine a
    worker's process takes longer than the nanny's fixed 4 s to exit, and the nanny kills it. That
    loses nothing, but the warning on stderr read as a failure of a build that succeeded.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if os.environ.get("KEHOACH_DEBUG") == "1":
            return True
        return not _IDLE_WORKER_KILLED.match(record.getMessage())

