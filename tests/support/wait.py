"""Waiting for a condition with a deadline: the one way the tests wait for something to happen.

A test never sleeps a fixed time and hopes; it asks again and again until the condition holds or the
deadline passes, and then fails naming what it waited for. The deadline is generous (a loaded CI machine
is slow); a passing test returns as soon as the condition holds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _timed_out(timeout_s: float, what: str) -> AssertionError:
    return AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def wait_until(
    predicate: Callable[[], T], timeout_s: float = 10.0, what: str = "the condition", *, interval_s: float = 0.05
) -> T:
    """``predicate()``'s first truthy value, asked every ``interval_s`` until ``timeout_s`` has passed.

    Blocks the calling thread: for conditions that other threads or processes make true. Fails with an
    AssertionError naming ``what``; an exception from ``predicate`` (a process that died early) propagates.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise _timed_out(timeout_s, what)
        time.sleep(interval_s)


async def wait_until_async(
    predicate: Callable[[], T], timeout_s: float = 10.0, what: str = "the condition", *, interval_s: float = 0.02
) -> T:
    """As :func:`wait_until`, yielding to the running event loop (the engine's, Qt's) between asks."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise _timed_out(timeout_s, what)
        await asyncio.sleep(interval_s)
