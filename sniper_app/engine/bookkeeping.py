"""Store writes that must outlive a full disk: saved now, or kept in order and retried until there is room.

A bid that is due goes out whatever the disk says; what the engine writes about it (the hand-over to the
fire, the outcome, the history) waits here while the disk is full and is saved, in the order it happened,
as soon as there is room again. Each write is one transaction, so nothing is ever half-written.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from sniper_app.store.errors import DiskFull

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_RETRY_S = 0.1
MAX_RETRY_S = 2.0


class Bookkeeper:
    def __init__(self) -> None:
        self._queue: deque[tuple[str, Callable[[], object]]] = deque()
        self._task: asyncio.Task[None] | None = None
        self._drained = asyncio.Event()
        self._drained.set()

    @property
    def pending(self) -> int:
        """How many writes wait for room on the disk."""
        return len(self._queue)

    def write(self, what: str, save: Callable[[], T], assumed: T) -> T:
        """Run ``save`` now, or, while the disk is full, queue it behind earlier ones and return ``assumed``.

        Once one write waits, later ones queue behind it even if the disk has room for them, so a status
        change is never saved before the change it follows.
        """
        if not self._queue:
            try:
                return save()
            except DiskFull as exc:
                log.error("%s is not saved yet: %s It is kept and saved as soon as there is room.", what, exc)
        self._queue.append((what, save))
        self._drained.clear()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain(), name="sniper-bookkeeping")
        return assumed

    async def _drain(self) -> None:
        delay = FIRST_RETRY_S
        while self._queue:
            what, save = self._queue[0]
            try:
                save()
            except DiskFull:
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_S)
                continue
            except Exception:  # the state moved on meanwhile (a compare-and-set lost): say so, keep going
                log.exception("%s could not be saved after the disk had room again", what)
            self._queue.popleft()
            delay = FIRST_RETRY_S
        log.info("the disk has room again: every waiting write is saved")
        self._drained.set()

    async def drain(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for every waiting write to be saved; False if some still wait."""
        try:
            await asyncio.wait_for(self._drained.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    def abandon(self) -> list[str]:
        """Stop retrying (the engine stops); returns what was never saved."""
        if self._task is not None:
            self._task.cancel()
        left = [what for what, _ in self._queue]
        self._queue.clear()
        self._drained.set()
        return left
