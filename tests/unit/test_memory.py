"""The figures below Python's objects, and giving the C heap's free memory back."""

from __future__ import annotations

import sqlite3
import sys

import pytest

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
