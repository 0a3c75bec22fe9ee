"""The one place where engine events cross into Qt: EventBus callbacks become Qt signals.

The engine publishes on the loop thread (the GUI thread under qasync), but every event is re-emitted
through a queued connection, so a publisher on any thread is safe and a slow slot never delays the engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from sniper_app.engine.bus import (
    AccountStateChanged,
    AuctionEndingSoon,
    ClockMeasured,
    Event,
    EventBus,
    SnipeStatusChanged,
    WatchlistSynced,
)
from sniper_app.ui.qt import QtCore

log = logging.getLogger(__name__)
T = TypeVar("T")


class EngineBridge(QtCore.QObject):
    """Subscribes to an :class:`EventBus` and emits one typed signal per event kind, on the GUI thread."""

    snipeStatusChanged = QtCore.Signal(object)  # SnipeStatusChanged
    auctionEndingSoon = QtCore.Signal(object)  # AuctionEndingSoon
    watchlistSynced = QtCore.Signal(object)  # WatchlistSynced
    clockMeasured = QtCore.Signal(object)  # ClockMeasured
    accountStateChanged = QtCore.Signal(object)  # AccountStateChanged
    eventReceived = QtCore.Signal(object)  # every Event, after its typed signal

    _incoming = QtCore.Signal(object)

    def __init__(self, bus: EventBus, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._incoming.connect(self._dispatch, QtCore.Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] | None = bus.subscribe(Event, self._on_event)

    def _on_event(self, event: Event) -> None:
        # Called by the bus on the publisher's thread; emitting a queued signal is all it may do.
        try:
            self._incoming.emit(event)
        except RuntimeError:  # the Qt side is gone (window closed): stop listening rather than log forever
            self.detach()

    @QtCore.Slot(object)
    def _dispatch(self, event: Event) -> None:
        if isinstance(event, SnipeStatusChanged):
            self.snipeStatusChanged.emit(event)
        elif isinstance(event, AuctionEndingSoon):
            self.auctionEndingSoon.emit(event)
        elif isinstance(event, WatchlistSynced):
            self.watchlistSynced.emit(event)
        elif isinstance(event, ClockMeasured):
            self.clockMeasured.emit(event)
        elif isinstance(event, AccountStateChanged):
            self.accountStateChanged.emit(event)
        self.eventReceived.emit(event)

    def detach(self) -> None:
        """Stop listening to the bus (the window calls this when it is destroyed)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None


class AsyncRunner(QtCore.QObject):
    """Runs the window's coroutines on the asyncio loop (qasync's, on the GUI thread) and reports back.

    Widgets never touch the loop themselves. The runner keeps a reference to every task it starts (a bare
    ``create_task`` can be garbage-collected mid-run), calls ``on_done``/``on_error`` on the GUI thread, and
    cancels what is still running when the window goes away.
    """

    failed = QtCore.Signal(str, object)  # (what, exception) for a task started without its own on_error

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: set[asyncio.Task[Any]] = set()

    def submit(
        self,
        coro: Coroutine[Any, Any, T],
        *,
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        what: str = "",
    ) -> asyncio.Task[T]:
        task: asyncio.Task[T] = asyncio.get_event_loop().create_task(coro)
        self._tasks.add(task)

        def finished(done: asyncio.Task[T]) -> None:
            self._tasks.discard(done)
            if done.cancelled():
                return
            exc = done.exception()
            try:
                if exc is None:
                    if on_done is not None:
                        on_done(done.result())
                elif on_error is not None:
                    on_error(exc)
                else:
                    log.error("%s failed", what or "a background task", exc_info=exc)
                    self.failed.emit(what, exc)
            except RuntimeError as err:  # the widget the callback touches was deleted meanwhile
                log.debug("result of %s arrived after its widget was gone: %s", what or "a task", err)

        task.add_done_callback(finished)
        return task

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
