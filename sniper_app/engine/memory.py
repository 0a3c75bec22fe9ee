"""Where the process's memory sits below Python's objects: SQLite's own allocations and the C allocator.

Read for the metrics file (``diagnostics`` and the soak test): a leak of Python objects shows in the live
block count, but SQLite's page caches and the C allocator's free-but-kept memory show only here. Linux with
glibc only; elsewhere (or if a symbol is missing) the figures are simply absent.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import sys
from typing import Any

log = logging.getLogger(__name__)


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


@functools.cache
def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
    except (OSError, AttributeError):
        return None  # not glibc (musl), or a glibc older than 2.33
    return libc


@functools.cache
def _sqlite() -> Any:
    try:
        import _sqlite3

        lib = ctypes.CDLL(_sqlite3.__file__)
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        lib.sqlite3_memory_highwater.restype = ctypes.c_int64
        lib.sqlite3_memory_highwater.argtypes = [ctypes.c_int]
    except (ImportError, OSError, AttributeError):
        return None
    return lib


def native_memory() -> dict[str, int]:
    """Bytes held by SQLite, in use in the C heap, and free in the C heap but not given back to the system."""
    out: dict[str, int] = {}
    sqlite = _sqlite()
    if sqlite is not None:
        out["sqlite_bytes"] = int(sqlite.sqlite3_memory_used())
    libc = _libc()
    if libc is not None:
        info = libc.mallinfo2()
        out["malloc_in_use_bytes"] = int(info.uordblks + info.hblkhd)
        out["malloc_free_bytes"] = int(info.fordblks)
    return out


# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 64 * 1024
TRIM_THRESHOLD = 128 * 1024


def settle_allocator() -> bool:
    """Fix the C heap's thresholds for a long-running engine; False where that is not possible.

    Left to itself glibc raises its mmap threshold to the largest block it has freed (up to 32 MB), after
    which reply bodies of hundreds of kilobytes (the won/lost list, a page of the watch list) are cut from the
    heap, and the small long-lived objects allocated after them keep the freed space as holes no trim can
    give back. Measured over the soak (300 snipes, 5 minutes): free-but-kept heap 1.3 → 5.4 MB with the
    part in use flat; with these fixed thresholds it stays between 1.1 and 1.5 MB. Blocks of 64 KB and more
    are mapped and unmapped on their own instead, a system call each, which a reply can afford.
    """
    libc = _libc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(libc.mallopt(_M_TRIM_THRESHOLD,
                                                                                         TRIM_THRESHOLD))


def give_back_free_memory() -> bool:
    """Return the C heap's free pages to the system (glibc ``malloc_trim``); False where that is not possible.

    glibc keeps what the engine frees (reply bodies, query results, parsed items) in its arenas: measured
    over the soak, the free-but-kept part grew from 2.2 to 5.1 MB while the part in use stayed at 13-15 MB.
    Trimming takes about a tenth of a millisecond but locks each arena in turn, so the engine calls it
    from its housekeeping on the loop, and never while a bid is about to go out.
    """
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
