"""Memory a step freed, given back to the system before the next step starts.

A step frees its buffers when it ends, but the allocators keep the pages for the next allocation:
Arrow's pool (mimalloc) and the C library's heap. The next step's own peak then comes on top of
them, and the build's peak is the sum (issue 26: 5,000 plans in process, the flow held 484 MB
of anonymous memory after the validation, 324 MB once Arrow's pool gave its free pages back, and
after the audit 297 MB, 233 MB once the heap was trimmed as well). ``release`` gives both back;
``kehoach.build.run_build`` calls it after each step that reads the corpus.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import pyarrow as pa


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, when it is glibc (``malloc_trim`` is glibc's; musl and macOS have none)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release() -> None:
    """Give the free pages of Arrow's pool and of the C library's heap back to the system."""
    pa.default_memory_pool().release_unused()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
