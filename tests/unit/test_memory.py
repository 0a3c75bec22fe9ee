"""The figures below Python's objects, and giving the C heap's free memory back."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from sniper_app.engine.housekeeping import TRIM_AFTER_S, TRIM_QUIET_S, bid_leaving
from sniper_app.engine.memory import give_back_free_memory, native_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallinfo2 and malloc_trim")
def test_native_figures_are_there_on_linux_and_follow_sqlite() -> None:
    before = native_memory()
    assert set(before) == {"sqlite_bytes", "malloc_in_use_bytes", "malloc_free_bytes"}
    connection = sqlite3.connect(":memory:")
    connection.execute("create table t(x)")
    connection.executemany("insert into t values (?)", ((str(n) * 50,) for n in range(2000)))
    assert native_memory()["sqlite_bytes"] > before["sqlite_bytes"]
    connection.close()
    assert give_back_free_memory()
    assert all(value >= 0 for value in native_memory().values())


def test_the_trim_waits_only_for_a_bid_about_to_leave() -> None:
    # Sends long past do not hold the trim back: with a fire every second or so, waiting for every handed-over
    # request to finish meant it almost never ran.
    assert not bid_leaving([100.0 - 5.0, 100.0 - 60.0], 100.0)
    assert not bid_leaving([100.0 + TRIM_QUIET_S + 0.5], 100.0)
    assert not bid_leaving([], 100.0)
    assert bid_leaving([100.0 + TRIM_QUIET_S / 2], 100.0)  # about to leave
    assert bid_leaving([100.0 - TRIM_AFTER_S / 2, 200.0], 100.0)  # just sent: its reply is being read


_SETTLED_HEAP = """
import json
from sniper_app.engine.memory import _libc, settle_allocator
settled = settle_allocator()
big = bytearray(4_000_000)
del big  # left to itself, glibc would now keep up to 8 MB freed at the heap's top (measured: all 3 MB below)
before = _libc().mallinfo2().arena
replies = [bytearray(50_000) for _ in range(60)]
grown = _libc().mallinfo2().arena
del replies
print(json.dumps({"settled": settled, "before": before, "grown": grown, "after": _libc().mallinfo2().arena}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt and mallinfo2")
def test_once_settled_the_heap_gives_back_what_replies_freed_even_after_a_large_block() -> None:
    # In a fresh process: a test worker's heap already has free holes the replies would fill unseen.
    done = subprocess.run([sys.executable, "-c", _SETTLED_HEAP], capture_output=True, text=True, timeout=60, check=True)
    heap = json.loads(done.stdout)
    assert heap["settled"]
    assert heap["grown"] > heap["before"] + 2_000_000  # cut from the heap: each is under the mmap threshold
    assert heap["after"] < heap["before"] + 256 * 1024
